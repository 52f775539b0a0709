"""Data notes: base64, JSON and YAML, hashing, name helpers.

``toJSON``/``toJson`` produce exactly what Go's ``encoding/json`` produces for the same value
(sorted keys, ``<``/``>``/``&`` escaped, Go's float format), so checksums computed in
templates match the ones the original tooling computed. A value that would serialize beyond
``ORK_MAX_RENDER_CHARS`` is refused before it is serialized.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

from orkestra.template.functions import Func, P, func
from orkestra.template.gofmt import check_printable, format_float

# json, hashlib and the YAML dumper load on the first call: every template check imports
# this table.

_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _json_string(s: str) -> str:
    out = ['"']
    for c in s:
        if c in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _json_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {format_float(f, 'g', -1)}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = format_float(f, "e", -1)
        mantissa, _, exp = text.partition("e")
        sign, digits = exp[0], exp[1:].lstrip("0") or "0"
        return f"{mantissa}e{sign}{digits}"
    return format_float(f, "f", -1)


def go_json(value: Any) -> str:
    """``json.Marshal`` of a template value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{_json_string(str(k))}:{go_json(value[k])}" for k in sorted(value))
            + "}"
        )
    raise ValueError(f"json: unsupported type {type(value).__name__}")


@func("toJSON", P.ANY)
def to_json(value: Any) -> str:
    check_printable((value,))
    return go_json(value)


@func("toJson", P.ANY)
def to_json_sprig(value: Any) -> str:
    check_printable((value,))
    return go_json(value)


@func("fromJSON", P.STR)
def from_json(text: str) -> Any:
    import json

    return json.loads(text)


@func("toYaml", P.ANY)
def to_yaml(value: Any) -> str:
    """YAML of VALUE with sorted keys and no trailing newline (like Helm's ``toYaml``)."""
    if value is None:
        return "null"
    from orkestra import yamltext

    text = yamltext.safe(value, default_flow_style=False, sort_keys=True, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("...").rstrip("\n")


@func("toBase64", P.STR)
def to_base64(s: str) -> str:
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


@func("b64enc", P.STR)
def b64enc(s: str) -> str:
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


@func("fromBase64", P.STR)
def from_base64(s: str) -> str:
    try:
        return base64.b64decode(s, validate=True).decode("utf-8", "replace")
    except binascii.Error:
        raise ValueError(f"illegal base64 data in {s!r}") from None


@func("sha256sum", P.STR)
def sha256sum(s: str) -> str:
    import hashlib

    return hashlib.sha256(s.encode("utf-8")).hexdigest()


@func("slugify", P.STR)
def slugify(s: str) -> str:
    """Lower case, runs of anything but letters and digits become one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


@func("truncateName", P.STR, variadic=P.INT)
def truncate_name(name: str, *limit: int) -> str:
    """A Kubernetes-safe name of at most LIMIT (default 63) characters; long names keep
    a short hash of the full name so distinct inputs stay distinct."""
    size = limit[0] if limit else 63
    if len(name) <= size:
        return name
    import hashlib

    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    head = name[: max(size - 9, 0)].rstrip("-.")
    return f"{head}-{digest}"[:size]


NOTES: tuple[Func, ...] = (
    to_json,
    to_json_sprig,
    from_json,
    to_yaml,
    to_base64,
    b64enc,
    from_base64,
    sha256sum,
    slugify,
    truncate_name,
)

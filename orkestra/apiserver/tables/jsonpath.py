"""JSONPath: the subset CRD ``additionalPrinterColumns`` use.

This module owns parsing a JSONPath (``.a.b``, ``{.a[0].b}``, ``['a']``, ``.a[*].b``,
``..name``, ``.a[?(@.type=="Ready")].status``) into steps, an expression outside the subset
being a :class:`JsonPathError`, and finding every value the steps select in a plain
document (missing keys select nothing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from orkestra.errors import OrkError

_STEP = re.compile(
    r"""
    \.\.(?P<deep>[A-Za-z0-9_$-]+)         # ..name (recursive)
  | \.(?P<field>[A-Za-z0-9_$/-]+)         # .name
  | \[(?P<quoted>'[^']*'|"[^"]*")\]       # ['name']
  | \[(?P<index>-?\d+)\]                  # [0], [-1]
  | \[(?P<all>\*)\]                       # [*]
  | \.(?P<star>\*)                        # .*
  | \[\?\((?P<filter>[^)]*)\)\]           # [?(@.type=="Ready")]
""",
    re.VERBOSE,
)
_FILTER = re.compile(
    r"\s*@(?P<path>[^\s=!<>]*)\s*(?:(?P<op>==|!=|<=|>=|<|>)\s*"
    r"(?P<value>.+?))?\s*$"
)


Step = tuple[str, Any]


class JsonPathError(OrkError):
    """A JSONPath outside the subset CRD printer columns use."""


@lru_cache(maxsize=512)
def compile_jsonpath(expression: str) -> tuple[Step, ...]:
    """Parse ``.a.b``, ``{.a[0].b}``, ``.a[*].b``, ``.a[?(@.type=="Ready")].status``."""
    text = expression.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    text = text.removeprefix("$")
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise JsonPathError(f"unrecognized JSONPath {expression!r} at {text[pos:]!r}")
        steps.append(_step(match))
        pos = match.end()
    return tuple(steps)


def _step(match: re.Match[str]) -> Step:
    if match["deep"]:
        return ("deep", match["deep"])
    if match["field"]:
        return ("field", match["field"])
    if match["quoted"]:
        return ("field", match["quoted"][1:-1])
    if match["index"]:
        return ("index", int(match["index"]))
    if match["all"] or match["star"]:
        return ("all", None)
    return ("filter", _filter(match["filter"]))


def _filter(text: str) -> tuple[tuple[Step, ...], str, Any]:
    match = _FILTER.match(text)
    if match is None:
        raise JsonPathError(f"unrecognized filter {text!r}")
    path = compile_jsonpath(match["path"]) if match["path"] else ()
    return path, match["op"] or "", _literal(match["value"]) if match["op"] else None


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return json.loads(text)
    except ValueError:
        return text


def find(value: Any, steps: Sequence[Step]) -> list[Any]:
    """Every value ``steps`` select in ``value`` (missing keys select nothing)."""
    current = [value]
    for kind, arg in steps:
        current = [found for item in current for found in _apply(kind, arg, item)]
    return current


def _apply(kind: str, arg: Any, item: Any) -> list[Any]:
    if kind == "field":
        return [item[arg]] if isinstance(item, dict) and arg in item else []
    if kind == "index":
        ok = isinstance(item, list) and -len(item) <= arg < len(item)
        return [item[arg]] if ok else []
    if kind == "all":
        return (
            list(item.values())
            if isinstance(item, dict)
            else (list(item) if isinstance(item, list) else [])
        )
    if kind == "deep":
        return _deep(item, arg)
    if not isinstance(item, list):
        return []
    return [element for element in item if _matches(element, *arg)]


def _deep(item: Any, name: str) -> list[Any]:
    found = []
    if isinstance(item, dict):
        if name in item:
            found.append(item[name])
        children: list[Any] = list(item.values())
    else:
        children = list(item) if isinstance(item, list) else []
    for child in children:
        found.extend(_deep(child, name))
    return found


def _matches(element: Any, path: tuple[Step, ...], op: str, want: Any) -> bool:
    values = find(element, path)
    if not values:
        return False
    if not op:
        return True
    got = values[0]
    if op in ("==", "!="):
        equal = got == want and isinstance(got, bool) == isinstance(want, bool)
        return equal == (op == "==")
    if not (is_number(got) and is_number(want)):
        return False
    checks = {"<": got < want, "<=": got <= want, ">": got > want, ">=": got >= want}
    return bool(checks[op])


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)

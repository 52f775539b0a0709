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
from typing import Literal, TypeAlias, TypeGuard

from orkestra.errors import OrkError
from orkestra.kubeobjects import Json

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


# A filter ``[?(@.path op literal)]``: the path's steps, the operator ("" when the filter
# only asks that the path exists) and the literal compared with.
Filter: TypeAlias = "tuple[tuple[Step, ...], str, Json]"
Step: TypeAlias = (
    "tuple[Literal['field', 'deep'], str] | tuple[Literal['index'], int] "
    "| tuple[Literal['all'], None] | tuple[Literal['filter'], Filter]"
)


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


def _filter(text: str) -> Filter:
    match = _FILTER.match(text)
    if match is None:
        raise JsonPathError(f"unrecognized filter {text!r}")
    path = compile_jsonpath(match["path"]) if match["path"] else ()
    return path, match["op"] or "", _literal(match["value"]) if match["op"] else None


def _literal(text: str) -> Json:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        literal: Json = json.loads(text)
    except ValueError:
        return text
    return literal


def find(value: object, steps: Sequence[Step]) -> list[object]:
    """Every value ``steps`` select in ``value`` (missing keys select nothing)."""
    current = [value]
    for step in steps:
        current = [found for item in current for found in _apply(step, item)]
    return current


def _apply(step: Step, item: object) -> list[object]:
    match step:
        case ("field", name):
            return [item[name]] if isinstance(item, dict) and name in item else []
        case ("index", index):
            if isinstance(item, list) and -len(item) <= index < len(item):
                return [item[index]]
            return []
        case ("all", _):
            return (
                list(item.values())
                if isinstance(item, dict)
                else (list(item) if isinstance(item, list) else [])
            )
        case ("deep", name):
            return _deep(item, name)
        case ("filter", (path, op, want)):
            if not isinstance(item, list):
                return []
            return [element for element in item if _matches(element, path, op, want)]


def _deep(item: object, name: str) -> list[object]:
    found = []
    if isinstance(item, dict):
        if name in item:
            found.append(item[name])
        children: list[object] = list(item.values())
    else:
        children = list(item) if isinstance(item, list) else []
    for child in children:
        found.extend(_deep(child, name))
    return found


def _matches(element: object, path: tuple[Step, ...], op: str, want: Json) -> bool:
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


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)

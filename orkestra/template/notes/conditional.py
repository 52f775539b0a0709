"""Conditional notes: ``default``, ``ternary``, ``coalesce``, ``empty`` and friends.

"Empty" is Sprig's notion (nil, ``false``, zero, empty string, list or map) plus the string
``<no value>``, which is what a missing field renders to before Orkestra strips it.
"""

from __future__ import annotations

from typing import Any

from orkestra.template.functions import Func, P, func
from orkestra.template.gofmt import format_value
from orkestra.template.values import NO_VALUE


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float | complex):
        return value == 0
    if isinstance(value, str):
        return value == "" or value == NO_VALUE
    if isinstance(value, list | tuple | dict):
        return len(value) == 0
    return False


def is_truthy(value: Any) -> bool:
    """Truth for condition arguments: empty values are false."""
    return not is_empty(value)


@func("default", P.ANY, variadic=P.ANY)
def default(fallback: Any, *given: Any) -> Any:
    """``default FALLBACK VALUE``: VALUE unless it is empty (pipeline-friendly order)."""
    if not given or is_empty(given[0]):
        return fallback
    return given[0]


@func("empty", P.ANY)
def empty(value: Any) -> bool:
    return is_empty(value)


@func("notEmpty", P.ANY)
def not_empty(value: Any) -> bool:
    return not is_empty(value)


@func("coalesce", variadic=P.ANY)
def coalesce(*values: Any) -> Any:
    """The first non-empty argument, or nil."""
    for value in values:
        if not is_empty(value):
            return value
    return None


@func("ternary", P.ANY, P.ANY, P.ANY)
def ternary(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``ternary COND A B``: A when COND is truthy, else B (condition first, unlike Sprig)."""
    return if_true if is_truthy(condition) else if_false


@func("boolTernary", P.ANY, P.ANY, P.ANY)
def bool_ternary(condition: Any, if_true: Any, if_false: Any) -> Any:
    """Like ``ternary`` but COND must be a bool or the strings "true"/"false"."""
    if isinstance(condition, str) and condition.lower() in ("true", "false"):
        condition = condition.lower() == "true"
    if not isinstance(condition, bool):
        raise ValueError(f"boolTernary needs a bool condition, got {condition!r}")
    return if_true if condition else if_false


@func("boolDefault", P.ANY, P.ANY)
def bool_default(value: Any, fallback: Any) -> bool:
    """VALUE as a bool when it is one (or "true"/"false"), else FALLBACK."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return bool(fallback) if not isinstance(fallback, str) else fallback.lower() == "true"


@func("eqTernary", P.ANY, P.ANY, P.ANY, P.ANY)
def eq_ternary(value: Any, target: Any, if_equal: Any, otherwise: Any) -> Any:
    """``eqTernary V T A B``: A when V equals T (compared as text), else B."""
    same = value == target or format_value(value) == format_value(target)
    return if_equal if same else otherwise


@func("all", variadic=P.ANY)
def all_(*values: Any) -> bool:
    return all(not is_empty(v) for v in values)


@func("any", variadic=P.ANY)
def any_(*values: Any) -> bool:
    return any(not is_empty(v) for v in values)


NOTES: tuple[Func, ...] = (
    default,
    empty,
    not_empty,
    coalesce,
    ternary,
    bool_ternary,
    bool_default,
    eq_ternary,
    all_,
    any_,
)

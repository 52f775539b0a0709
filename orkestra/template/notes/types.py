"""Type notes: conversions (``toInt``, ``toFloat``, ``toBool``, ``toString``, ``asList``,
``asMap``) and type tests. Type names are Orkestra's, not Go's: ``string``, ``number``,
``bool``, ``map``, ``list``, ``null``."""

from __future__ import annotations

from typing import Any

from orkestra.template.functions import Func, P, func
from orkestra.template.literals import LiteralError, parse_int
from orkestra.template.notes.conditional import is_empty
from orkestra.template.notes.strings import to_str


def type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list | tuple):
        return "list"
    return "unknown"


def parse_bool(text: str) -> bool:
    """Go's strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"cannot convert {text!r} to bool")


@func("toInt", P.ANY)
def to_int(value: Any) -> int:
    """Integers as they are, floats truncated, numeric strings parsed, bools 1/0, nil 0."""
    if value is None:
        return 0
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_int(text)
        except LiteralError:
            try:
                return int(float(text))
            except ValueError:
                raise ValueError(f"cannot convert {value!r} to int") from None
    raise ValueError(f"cannot convert {type_of(value)} to int")


@func("toFloat", P.ANY)
def to_float(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"cannot convert {value!r} to float") from None
    raise ValueError(f"cannot convert {type_of(value)} to float")


@func("toBool", P.ANY)
def to_bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return parse_bool(value.strip())
    raise ValueError(f"cannot convert {type_of(value)} to bool")


@func("toString", P.ANY)
def to_string(value: Any) -> str:
    return to_str(value)


@func("asString", P.ANY)
def as_string(value: Any) -> str:
    return "" if value is None else to_str(value)


@func("asList", P.ANY)
def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


@func("asMap", P.ANY)
def as_map(value: Any) -> dict[str, object]:
    return dict(value) if isinstance(value, dict) else {}


@func("typeOf", P.ANY)
def type_of_note(value: Any) -> str:
    return type_of(value)


def _is(kind: str) -> Func:
    name = "type" + kind[0].upper() + kind[1:]
    return Func(name, lambda value: type_of(value) == kind, (P.ANY,))


@func("isScalar", P.ANY)
def is_scalar(value: Any) -> bool:
    return type_of(value) in ("string", "number", "bool")


@func("isComposite", P.ANY)
def is_composite(value: Any) -> bool:
    return type_of(value) in ("map", "list")


@func("isEmpty", P.ANY)
def is_empty_note(value: Any) -> bool:
    return is_empty(value)


NOTES: tuple[Func, ...] = (
    to_int,
    to_float,
    to_bool,
    to_string,
    as_string,
    as_list,
    as_map,
    type_of_note,
    _is("map"),
    _is("list"),
    _is("string"),
    _is("number"),
    _is("bool"),
    _is("null"),
    is_scalar,
    is_composite,
    is_empty_note,
)

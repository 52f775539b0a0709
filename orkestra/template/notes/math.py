"""Math notes. ``add sub mul div mod min max`` work on 64-bit integers like Sprig's (numbers
and numeric strings convert, floats truncate, anything else counts as 0); ``clamp``, ``abs``
and the ``*f`` variants keep floats."""

from __future__ import annotations

import math
from typing import Any

from orkestra.template.functions import Func, P, func
from orkestra.template.literals import LiteralError, parse_int

INT64 = 1 << 64


def to_int64(value: Any) -> int:
    """Sprig's lenient int conversion (``cast.ToInt64``)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return -(1 << 63)
        return int(value)
    if isinstance(value, str):
        text = value
        stripped = text.rstrip("0")
        if stripped.endswith(".") and stripped != text:
            text = stripped[:-1]
        try:
            return parse_int(text)
        except (LiteralError, ValueError):
            return 0
    return 0


def to_float64(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def wrap64(x: int) -> int:
    """Two's complement wrap-around, as Go's int64 arithmetic."""
    x %= INT64
    return x - INT64 if x >= 1 << 63 else x


@func("add", variadic=P.ANY)
def add(*values: Any) -> int:
    return wrap64(sum(to_int64(v) for v in values))


@func("add1", P.ANY)
def add1(value: Any) -> int:
    return wrap64(to_int64(value) + 1)


@func("sub", P.ANY, P.ANY)
def sub(a: Any, b: Any) -> int:
    return wrap64(to_int64(a) - to_int64(b))


@func("mul", P.ANY, variadic=P.ANY)
def mul(a: Any, *others: Any) -> int:
    result = to_int64(a)
    for b in others:
        result = wrap64(result * to_int64(b))
    return result


def _trunc_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("integer divide by zero")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


@func("div", P.ANY, P.ANY)
def div(a: Any, b: Any) -> int:
    return wrap64(_trunc_div(to_int64(a), to_int64(b)))


@func("mod", P.ANY, P.ANY)
def mod(a: Any, b: Any) -> int:
    x, y = to_int64(a), to_int64(b)
    return x - y * _trunc_div(x, y)


@func("max", P.ANY, variadic=P.ANY)
def max_(a: Any, *others: Any) -> int:
    return max([to_int64(a), *(to_int64(b) for b in others)])


@func("min", P.ANY, variadic=P.ANY)
def min_(a: Any, *others: Any) -> int:
    return min([to_int64(a), *(to_int64(b) for b in others)])


def _number(value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    f = to_float64(value)
    return int(f) if f.is_integer() and not (isinstance(value, str) and "." in value) else f


@func("clamp", P.ANY, P.ANY, P.ANY)
def clamp(value: Any, low: Any, high: Any) -> int | float:
    """``clamp V LO HI``: V limited to the range [LO, HI]."""
    return min(max(_number(value), _number(low)), _number(high))


@func("abs", P.ANY)
def abs_(value: Any) -> int | float:
    return abs(_number(value))


@func("addf", variadic=P.ANY)
def addf(*values: Any) -> float:
    return math.fsum(to_float64(v) for v in values)


@func("subf", P.ANY, variadic=P.ANY)
def subf(a: Any, *others: Any) -> float:
    return to_float64(a) - math.fsum(to_float64(v) for v in others)


@func("mulf", P.ANY, variadic=P.ANY)
def mulf(a: Any, *others: Any) -> float:
    result = to_float64(a)
    for v in others:
        result *= to_float64(v)
    return result


@func("divf", P.ANY, variadic=P.ANY)
def divf(a: Any, *others: Any) -> float:
    result = to_float64(a)
    for v in others:
        result /= to_float64(v)
    return result


@func("floor", P.ANY)
def floor(value: Any) -> float:
    return float(math.floor(to_float64(value)))


@func("ceil", P.ANY)
def ceil(value: Any) -> float:
    return float(math.ceil(to_float64(value)))


NOTES: tuple[Func, ...] = (
    add,
    add1,
    sub,
    mul,
    div,
    mod,
    max_,
    min_,
    clamp,
    abs_,
    addf,
    subf,
    mulf,
    divf,
    floor,
    ceil,
)

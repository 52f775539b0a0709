"""The functions every Go template has: comparisons, ``index``, ``slice``, ``len``,
``print``/``printf``/``println``, the ``html``/``js``/``urlquery`` escapers, ``not`` and
``call``. (``and``/``or`` short-circuit, so the compiler emits them inline.)

Strings are measured, indexed and sliced by UTF-8 bytes, as in Go.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from orkestra.template.errors import TemplateExecError
from orkestra.template.functions import Func, P
from orkestra.template.gofmt import GoInt, sprint, sprintf, sprintln
from orkestra.template.values import MISSING, NO_VALUE, truth, type_name

_BASIC = {bool: "bool", GoInt: "int", int: "int", float: "float", complex: "complex", str: "string"}


def _basic_kind(v: Any) -> str:
    return _BASIC.get(type(v), "invalid")


def _reflect_kind(v: Any) -> str:
    if v is MISSING:
        return "invalid"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list | tuple):
        return "slice"
    return type(v).__name__


def _indirect(v: Any) -> Any:
    """Go's indirectInterface: a nil interface becomes the invalid value."""
    return MISSING if v is None else v


def eq(a: Any, *others: Any) -> bool:
    a = _indirect(a)
    if not others:
        raise TemplateExecError("missing argument for comparison")
    k1 = _basic_kind(a)
    for b in others:
        b = _indirect(b)
        k2 = _basic_kind(b)
        if k1 != k2:
            if a is not MISSING and b is not MISSING:
                raise TemplateExecError("incompatible types for comparison")
            equal = False
        elif k1 != "invalid":
            equal = a == b
        else:
            ra, rb = _reflect_kind(a), _reflect_kind(b)
            if ra != rb and "invalid" not in (ra, rb):
                raise TemplateExecError(
                    f"non-comparable types {a}: {type_name(a)}, {type_name(b)}: {b}"
                )
            if a is MISSING or b is MISSING:
                equal = (a is MISSING) == (b is MISSING)
            else:
                raise TemplateExecError(f"non-comparable type {b}: {type_name(b)}")
        if equal:
            return True
    return False


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def lt(a: Any, b: Any) -> bool:
    a, b = _indirect(a), _indirect(b)
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 == "invalid" or k2 == "invalid":
        raise TemplateExecError("invalid type for comparison")
    if k1 != k2:
        raise TemplateExecError("incompatible types for comparison")
    if k1 in ("bool", "complex"):
        raise TemplateExecError("invalid type for comparison")
    return bool(a < b)


def le(a: Any, b: Any) -> bool:
    return lt(a, b) or eq(a, b)


def gt(a: Any, b: Any) -> bool:
    return not le(a, b)


def ge(a: Any, b: Any) -> bool:
    return not lt(a, b)


def _index_arg(index: Any, cap: int) -> int:
    if index is MISSING:
        raise TemplateExecError("cannot index slice/array with nil")
    if not isinstance(index, int) or isinstance(index, bool):
        raise TemplateExecError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > cap:
        raise TemplateExecError(f"index out of range: {index}")
    return int(index)


def index(item: Any, *indexes: Any) -> Any:
    item = _indirect(item)
    if item is MISSING:
        raise TemplateExecError("index of untyped nil")
    for raw in indexes:
        idx = _indirect(raw)
        if item is None:
            raise TemplateExecError("index of nil pointer")
        if isinstance(item, str):
            data = item.encode("utf-8")
            x = _index_arg(idx, len(data))
            if x >= len(data):
                raise TemplateExecError("reflect: string index out of range")
            item = data[x]
        elif isinstance(item, list | tuple):
            x = _index_arg(idx, len(item))
            if x >= len(item):
                raise TemplateExecError("reflect: slice index out of range")
            item = item[x]
        elif isinstance(item, dict):
            if idx is MISSING:
                raise TemplateExecError("value is nil; should be of type string")
            if not isinstance(idx, str):
                raise TemplateExecError(f"value has type {type_name(idx)}; should be string")
            item = item.get(idx)
        else:
            raise TemplateExecError(f"can't index item of type {type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    item = _indirect(item)
    if item is MISSING:
        raise TemplateExecError("slice of untyped nil")
    if len(indexes) > 3:
        raise TemplateExecError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise TemplateExecError("cannot 3-index slice a string")
        data = item.encode("utf-8")
        bounds = _slice_bounds(len(data), indexes)
        return data[bounds[0] : bounds[1]].decode("utf-8", "replace")
    if isinstance(item, list | tuple):
        bounds = _slice_bounds(len(item), indexes)
        return list(item[bounds[0] : bounds[1]])
    raise TemplateExecError(f"can't slice item of type {type_name(item)}")


def _slice_bounds(length: int, indexes: tuple[Any, ...]) -> list[int]:
    idx = [0, length, length]
    for i, raw in enumerate(indexes):
        idx[i] = _index_arg(_indirect(raw), length)
    if idx[0] > idx[1]:
        raise TemplateExecError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise TemplateExecError(f"invalid slice index: {idx[1]} > {idx[2]}")
    return idx


def length(item: Any) -> GoInt:
    if item is MISSING:
        raise TemplateExecError("len of invalid value")
    if item is None:
        raise TemplateExecError("len of nil pointer")
    if isinstance(item, str):
        return GoInt(len(item) if item.isascii() else len(item.encode("utf-8")))
    if isinstance(item, list | tuple | dict):
        return GoInt(len(item))
    raise TemplateExecError(f"len of type {type_name(item)}")


def not_(value: Any) -> bool:
    return not truth(value)


def call(fn: Any, *args: Any) -> Any:
    if _indirect(fn) is MISSING:
        raise TemplateExecError("call of nil")
    if not callable(fn):
        raise TemplateExecError(f"non-function of type {type_name(fn)}")
    raise TemplateExecError("calling functions held in data is not supported")


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*(NO_VALUE if a is None else a for a in args))


_HTML = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}


def html(*args: Any) -> str:
    s = _eval_args(args)
    if not any(c in s for c in _HTML):
        return s
    return "".join(_HTML.get(c, c) for c in s)


_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def _js_char(c: str) -> str:
    if c in _JS:
        return _JS[c]
    if c < " ":
        return f"\\u00{ord(c):02X}"
    if c.isascii() or c.isprintable():
        return c
    return f"\\u{ord(c):04X}"


def js(*args: Any) -> str:
    return "".join(_js_char(c) for c in _eval_args(args))


def urlquery(*args: Any) -> str:
    return quote_plus(_eval_args(args), safe="-_.~")


BUILTINS: tuple[Func, ...] = (
    Func("eq", eq, (P.RAW,), P.RAW),
    Func("ne", ne, (P.RAW, P.RAW)),
    Func("lt", lt, (P.RAW, P.RAW)),
    Func("le", le, (P.RAW, P.RAW)),
    Func("gt", gt, (P.RAW, P.RAW)),
    Func("ge", ge, (P.RAW, P.RAW)),
    Func("index", index, (P.RAW,), P.RAW),
    Func("slice", slice_, (P.RAW,), P.RAW),
    Func("len", length, (P.RAW,)),
    Func("not", not_, (P.RAW,)),
    Func("call", call, (P.RAW,), P.RAW),
    Func("print", sprint, (), P.ANY),
    Func("printf", sprintf, (P.STR,), P.ANY),
    Func("println", sprintln, (), P.ANY),
    Func("html", html, (), P.ANY),
    Func("js", js, (), P.ANY),
    Func("urlquery", urlquery, (), P.ANY),
    # and/or short-circuit, so the compiler emits them inline; these entries give the
    # parser their names and the compiler their arity.
    Func("and", truth, (P.RAW,), P.RAW),
    Func("or", truth, (P.RAW,), P.RAW),
)

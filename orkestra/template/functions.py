"""Template functions: signatures, argument checking and the function table.

A Go template function has typed parameters; Go converts or rejects each argument at call
time (``invalid value; expected string``), and turns a failing call into ``error calling
NAME: ...``. :class:`Func` records a Python implementation with such a signature and
:meth:`Func.bind` returns the callable the compiled template invokes. Integer and float
parameters are more lenient than Go's (any number converts) because template data decoded
from YAML has no ``int``/``int64`` distinction a user could control. A function may not
return a string longer than ``ORK_MAX_RENDER_CHARS`` (checked once a result passes 64 KiB):
a template cannot grow a value without bound by feeding a function its own result in a loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from orkestra import limits
from orkestra.template.errors import TemplateError, TemplateExecError
from orkestra.template.values import MISSING, type_name

_LARGE = 64 * 1024  # results longer than this are compared with the render limit


class P(Enum):
    """Parameter kinds."""

    ANY = "interface {}"
    STR = "string"
    INT = "int"
    FLOAT = "float64"
    BOOL = "bool"
    RAW = "reflect.Value"  # the value as is, MISSING included (Go builtins)


def _convert(kind: P, value: Any) -> Any:
    if kind is P.ANY:
        return None if value is MISSING else value
    if kind is P.RAW:
        return value
    if value is MISSING:
        raise TemplateExecError(f"invalid value; expected {kind.value}")
    if kind is P.STR:
        if isinstance(value, str):
            return value
    elif kind is P.BOOL:
        if isinstance(value, bool):
            return value
    elif isinstance(value, bool):
        pass
    elif kind is P.INT:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(value, int | float):  # P.FLOAT
        return float(value)
    raise TemplateExecError(f"wrong type for value; expected {kind.value}; got {type_name(value)}")


# Positional: the builtins registry is a table of one-line rows (name, impl, params, variadic).
@dataclass(frozen=True)
class Func:
    """One template function.

    ``params`` are the fixed parameters; ``variadic`` the kind of any further arguments.
    ``needs_state`` functions get the execution state as first argument (user notes use it
    to render against the current data).
    """

    name: str
    impl: Callable[..., Any]
    params: tuple[P, ...] = ()
    variadic: P | None = None
    needs_state: bool = False

    def arity_error(self, count: int) -> str | None:
        """Go's message when ``count`` arguments do not fit, else None."""
        fixed = len(self.params)
        if self.variadic is not None:
            if count < fixed:
                return f"wrong number of args for {self.name}: want at least {fixed} got {count}"
        elif count != fixed:
            return f"wrong number of args for {self.name}: want {fixed} got {count}"
        return None

    def bind(self) -> Callable[..., Any]:
        """The callable a compiled template uses (arguments already counted)."""
        impl, name, params, variadic = self.impl, self.name, self.params, self.variadic
        plain = all(p is P.ANY for p in params) and variadic in (None, P.ANY)
        raw = all(p is P.RAW for p in params) and variadic in (None, P.RAW)

        def convert(args: tuple[Any, ...]) -> list[Any]:
            out = []
            for i, arg in enumerate(args):
                kind = params[i] if i < len(params) else variadic
                assert kind is not None
                out.append(_convert(kind, arg))
            return out

        def call(*args: Any) -> Any:
            try:
                if raw:
                    result = impl(*args)
                elif plain:
                    # (``in`` finds MISSING alone: no other value equals it)
                    result = impl(*(args if MISSING not in args else _nil(args)))
                else:
                    result = impl(*convert(args))
            except TemplateError:
                raise
            except RecursionError:
                raise TemplateExecError(f"error calling {name}: recursion too deep") from None
            except Exception as exc:  # a function failing is a template error, like Go's
                raise TemplateExecError(f"error calling {name}: {exc}") from None
            if type(result) is str and len(result) > _LARGE:
                _check_result(name, result)
            return result

        return call


def _nil(args: tuple[Any, ...]) -> list[Any]:
    """Arguments as an ``interface {}`` parameter receives them: the invalid value as nil."""
    return [None if a is MISSING else a for a in args]


def _check_result(name: str, result: str) -> None:
    limit = limits.RENDER_CHARS
    if len(result) > limit.value:
        raise TemplateExecError(
            f"error calling {name}: the result is longer than "
            f"{limit.value} characters ({limit.variable})"
        )


class FuncTable(Mapping[str, Func]):
    """An immutable set of functions, identified by a stable key for caching."""

    def __init__(self, funcs: Iterable[Func], key: str) -> None:
        self._funcs = {f.name: f for f in funcs}
        self.key = key

    def __getitem__(self, name: str) -> Func:
        return self._funcs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._funcs)

    def __len__(self) -> int:
        return len(self._funcs)

    def __contains__(self, name: object) -> bool:
        return name in self._funcs

    def extended(self, funcs: Iterable[Func], key: str) -> FuncTable:
        """A new table with ``funcs`` added (replacing same-named ones)."""
        merged = dict(self._funcs)
        merged.update({f.name: f for f in funcs})
        return FuncTable(merged.values(), f"{self.key}+{key}")


def func(name: str, *params: P, variadic: P | None = None) -> Callable[[Callable[..., Any]], Func]:
    """Decorator declaring a template function with a Go-style signature."""

    def wrap(impl: Callable[..., Any]) -> Func:
        return Func(name, impl, tuple(params), variadic)

    return wrap

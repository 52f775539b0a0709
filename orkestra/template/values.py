"""How template values behave at run time: truth, field access, printing.

Go's reflection distinguishes an *invalid* value (a missing map key under the default
``missingkey`` mode) from a *nil interface* (a key whose value is null, or a missing key
under ``missingkey=zero``). The two behave differently when a field chain continues
(``.a.b``): walking through an invalid value quietly yields another invalid value, walking
through nil is an error. :data:`MISSING` is the invalid value; ``None`` is nil.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from orkestra.template.errors import TemplateExecError
from orkestra.template.gofmt import GoInt, format_value, go_type_name


class _Missing:
    """Go's invalid ``reflect.Value``: prints ``<no value>``, is false."""

    __slots__ = ()
    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
NO_VALUE: Final = "<no value>"

MISSINGKEY_MODES = ("default", "zero", "error")


def nil_to_missing(v: Any) -> Any:
    """What a pipeline stage hands on: Go turns a nil interface into an invalid value."""
    return MISSING if v is None else v


def truth(v: Any) -> bool:
    """Go's ``isTrue``: false for zero numbers, empty strings/lists/maps, nil and missing."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float | complex):
        return v != 0
    if isinstance(v, str | list | tuple | dict):
        return len(v) > 0
    return True


def to_text(v: Any) -> str:
    """How an action prints its value (``{{ .x }}``)."""
    if type(v) is str:
        return v
    if v is None or v is MISSING:
        return NO_VALUE
    return format_value(v)


def type_name(v: Any) -> str:
    """The Go type name used in error messages."""
    if v is None or v is MISSING:
        return "interface {}"
    return go_type_name(v)


def _missing_key_default(name: str) -> Any:
    return MISSING


def _missing_key_zero(name: str) -> Any:
    return None


def _missing_key_error(name: str) -> Any:
    raise TemplateExecError(f'map has no entry for key "{name}"')


def _walk_invalid_default(name: str) -> Any:
    return MISSING


def _walk_invalid_error(name: str) -> Any:
    raise TemplateExecError(f'nil data; no entry for key "{name}"')


FieldChain = Callable[[Any, Sequence[str]], Any]


def make_field_chain(mode: str) -> FieldChain:
    """A function walking ``.a.b.c`` on a value, for one ``missingkey`` mode."""
    on_missing = {
        "default": _missing_key_default,
        "zero": _missing_key_zero,
        "error": _missing_key_error,
    }[mode]
    on_invalid = _walk_invalid_error if mode == "error" else _walk_invalid_default

    def field_chain(recv: Any, names: Sequence[str]) -> Any:
        for name in names:
            if isinstance(recv, dict):
                try:
                    recv = recv[name]
                except KeyError:
                    recv = on_missing(name)
            elif recv is MISSING:
                return on_invalid(name)
            elif recv is None:
                raise TemplateExecError(f"nil pointer evaluating interface {{}}.{name}")
            else:
                raise TemplateExecError(f"can't evaluate field {name} in type {type_name(recv)}")
        return recv

    return field_chain


def make_field_call(mode: str) -> Callable[[Any, str], Any]:
    """Evaluate ``.name`` given arguments: maps have no methods, so this always fails,
    except on an invalid receiver, which Go quietly answers with another invalid value."""
    on_invalid = _walk_invalid_error if mode == "error" else _walk_invalid_default

    def field_call(recv: Any, name: str) -> Any:
        if recv is MISSING:
            return on_invalid(name)
        if recv is None:
            raise TemplateExecError(f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(recv, dict):
            raise TemplateExecError(f"{name} is not a method but has arguments")
        raise TemplateExecError(f"can't evaluate field {name} in type {type_name(recv)}")

    return field_call


def range_values(v: Any) -> Sequence[Any]:
    """The elements ``{{range}}`` visits (map values in key order); empty for nil."""
    if isinstance(v, list | tuple):
        return v
    if isinstance(v, dict):
        return [v[k] for k in sorted(v)]
    if v is None or v is MISSING:
        return ()
    raise TemplateExecError(f"range can't iterate over {format_value(v)}")


def range_pairs(v: Any) -> Sequence[tuple[Any, Any]]:
    """(index or key, element) pairs for ``{{range $i, $e := ...}}``."""
    if isinstance(v, list | tuple):
        return [(GoInt(i), e) for i, e in enumerate(v)]
    if isinstance(v, dict):
        return [(k, v[k]) for k in sorted(v)]
    if v is None or v is MISSING:
        return ()
    raise TemplateExecError(f"range can't iterate over {format_value(v)}")


def fail(message: str) -> Any:
    """Raise an execution error from inside a generated expression."""
    raise TemplateExecError(message)

"""Copying object data.

Objects are JSON-like (dicts, lists and scalars), so a recursive copy that knows only those
types is several times faster than ``copy.deepcopy``, which the store and the engine would
otherwise spend most of their time in.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

T = TypeVar("T")


def clone(value: T) -> T:
    """A deep copy of JSON-like data (other objects are shared, not copied)."""
    return cast(T, _clone(value))


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: _clone(v) for k, v in value.items()}
    if kind is list:
        return [_clone(v) for v in value]
    return value

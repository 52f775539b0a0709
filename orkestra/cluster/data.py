"""Copying and reading object data.

Objects are JSON-like (dicts, lists and scalars), so a recursive copy that knows only those
types is several times faster than ``copy.deepcopy``, which the store and the engine would
otherwise spend most of their time in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal, TypeVar, cast

from orkestra.kubeobjects import Json, JsonDict, KubeObject, ObjectMeta

T = TypeVar("T")
MetaKey = Literal[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
]


def clone(value: T) -> T:
    """A deep copy of JSON-like data (other objects are shared, not copied)."""
    return cast(T, _clone(value))


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        out = value.copy()  # scalars, most values, copied at C speed; containers replaced
        for key, item in value.items():
            if (inner := type(item)) is dict or inner is list:
                out[key] = _clone(item)
        return out
    if kind is list:
        return [
            _clone(item) if (inner := type(item)) is dict or inner is list else item
            for item in value
        ]
    return value


def as_object(value: JsonDict) -> KubeObject:
    """What a patch or a merge made of a Kubernetes object, as the object it still is."""
    return cast(KubeObject, value)


def meta_subset(meta: ObjectMeta, keys: Iterable[MetaKey]) -> ObjectMeta:
    """Those of ``keys`` that ``meta`` has, in the order given (values shared)."""
    picked: ObjectMeta = {}
    for key in keys:
        if key in meta:
            picked[key] = meta[key]
    return picked


def as_list(value: Json) -> list[Json]:
    """A list as it is, any other value as the one item of a list (what a field that should
    hold a list but holds one value is read as)."""
    return value if isinstance(value, list) else [value]


def maps(value: Json) -> Iterator[JsonDict]:
    """The maps in a list (nothing when ``value`` is not a list), to read or edit in place."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))

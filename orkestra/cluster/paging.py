"""List pages and their ``continue`` tokens.

A token records the resourceVersion the first page was served at and the last object's
position (namespace, name); the next page continues after that position. A token older than
the history the store keeps is answered with 410 Gone, as a real server answers a token
whose etcd revision was compacted.

:func:`in_order` walks a type's objects in position order from a sorted list of their keys,
starting after a position (a bisection, not a scan), within one namespace if asked, and as
they were at an earlier version when given the states the keys changed since then had. A
page of a list of 10,000 objects thereby costs what its objects cost, not a sort of all of
them and a copy of the type's objects for each page (what a ``kubectl get`` of 500 at a
time, or an informer's paged relist, asks for).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import heapq
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from orkestra.cluster.errors import BadRequestError, GoneError
from orkestra.kubeobjects import KubeObject


@dataclass(frozen=True)
class Page:
    items: list[KubeObject]
    resource_version: int
    continue_token: str
    remaining: int


def encode_continue(resource_version: int, position: tuple[str, str]) -> str:
    data = json.dumps({"v": 1, "rv": resource_version, "after": list(position)})
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_continue(token: str, oldest: int) -> tuple[int, tuple[str, str]]:
    """(resourceVersion, position) of a token; 410 Gone when older than ``oldest``."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        version, (namespace, name) = int(data["rv"]), data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequestError(f"invalid continue token: {exc}") from None
    if version < oldest:
        raise GoneError(
            "The provided continue parameter is too old to display a consistent "
            "list result. You can start a new list without the continue "
            "parameter."
        )
    return version, (str(namespace), str(name))


Position = tuple[str, str]  # namespace, name


def in_order(
    objects: Mapping[Position, KubeObject],
    keys: Sequence[Position],
    *,
    after: Position | None = None,
    namespace: str | None = None,
    then: Mapping[Position, KubeObject | None] | None = None,
) -> Iterator[KubeObject]:
    """``objects`` by position (``keys``: theirs, sorted) after ``after``, only those of
    ``namespace`` if given; with ``then`` (the earlier state of each key changed since,
    None for one that did not exist), as they were before those changes."""
    start = after
    if namespace is not None and (start is None or start < (namespace, "")):
        start = (namespace, "")
    first = 0 if start is None else bisect.bisect_right(keys, start)
    ordered: Iterator[Position] = iter(keys[first:])
    if then:
        gone = sorted(k for k in then if k not in objects and (start is None or k > start))
        ordered = heapq.merge(ordered, gone)
    for key in ordered:
        if namespace is not None and key[0] != namespace:
            return  # past the namespace's positions
        obj = then[key] if then is not None and key in then else objects[key]
        if obj is not None:
            yield obj

"""The local mirror of one resource type: objects by (namespace, name), kept in
resourceVersion order, with secondary indexes.

An informer fills it from list and watch; the runtime's own writes go in too (write-through),
so a reconcile sees what it just wrote. Both sources can arrive in either order, so the rule
is that an object never replaces a newer version of itself: an update or a deletion that
carries an older resourceVersion than the one held is dropped, and an object the runtime
deleted leaves a tombstone so a late event cannot bring it back. Stored objects are shared,
never copied: nobody may mutate them (the engine builds new dicts for everything it writes).
Indexes map a value computed from an object (an owner label, an owner key) to the keys
holding it, so the engine's ``orkestra-owner=NAME`` lists cost a lookup, not a scan.
A lock makes the store safe to read from worker threads while the event loop writes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
Indexer = Callable[[Obj], Iterable[str]]


def object_key(obj: Obj) -> Key:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


def resource_version(obj: Obj) -> int:
    """The object's resourceVersion as a number (-1 when absent or not numeric, which makes
    any other version count as newer)."""
    text = (obj.get("metadata") or {}).get("resourceVersion") or ""
    return int(text) if text.isdigit() else -1


def label_indexer(label: str) -> Indexer:
    """Index objects by the value of one label."""
    def values(obj: Obj) -> Iterable[str]:
        value = (obj["metadata"].get("labels") or {}).get(label)
        return (value,) if value is not None else ()
    return values


@dataclass(frozen=True)
class Change:
    """What a list or an event did to the store: ``type`` is ADDED, MODIFIED or DELETED;
    ``old`` is the previous object (None when added)."""

    type: str
    obj: Obj
    old: Obj | None = None


class Store:
    """Objects of one resource type, thread-safe, ordered by resourceVersion."""

    def __init__(self, indexers: dict[str, Indexer] | None = None) -> None:
        self._objects: dict[Key, Obj] = {}
        self._tombstones: dict[Key, int] = {}
        self._indexers = dict(indexers or {})
        self._indexes: dict[str, dict[str, set[Key]]] = {n: {} for n in self._indexers}
        self._lock = threading.Lock()

    # -- reads ------------------------------------------------------------------------
    def get(self, key: Key) -> Obj | None:
        with self._lock:
            return self._objects.get(key)

    def items(self, namespace: str | None = None) -> list[Obj]:
        """All objects (of one namespace), sorted by namespace and name."""
        with self._lock:
            keys = sorted(k for k in self._objects if namespace is None or k[0] == namespace)
            return [self._objects[k] for k in keys]

    def by_index(self, index: str, value: str) -> list[Obj]:
        """Objects whose indexer gives ``value``, sorted by namespace and name."""
        with self._lock:
            keys = sorted(self._indexes[index].get(value, ()))
            return [self._objects[k] for k in keys]

    def list_keys(self) -> list[Key]:
        with self._lock:
            return list(self._objects)

    def indexed(self, index: str) -> bool:
        return index in self._indexers

    def __len__(self) -> int:
        return len(self._objects)

    # -- writes -----------------------------------------------------------------------
    def upsert(self, obj: Obj) -> Change | None:
        """Store ``obj`` unless the store holds it at the same or a newer version (or it was
        deleted at a newer one); the change made, or None."""
        key = object_key(obj)
        version = resource_version(obj)
        with self._lock:
            old = self._objects.get(key)
            if old is not None and resource_version(old) >= version >= 0:
                return None
            if self._tombstones.get(key, -1) >= version >= 0:
                return None
            self._tombstones.pop(key, None)
            self._put(key, obj, old)
            return Change("ADDED" if old is None else "MODIFIED", obj, old)

    def remove(self, obj: Obj, *, tombstone: bool = False) -> Change | None:
        """Drop the object ``obj`` names, unless the store holds a newer version of it.
        ``tombstone`` remembers the deletion so older events cannot bring it back."""
        key = object_key(obj)
        version = resource_version(obj)
        with self._lock:
            old = self._objects.get(key)
            if old is not None and resource_version(old) > version >= 0:
                return None
            if tombstone:
                self._tombstones[key] = max(version, self._tombstones.get(key, -1))
            else:
                self._tombstones.pop(key, None)
            if old is None:
                return None
            self._put(key, None, old)
            return Change("DELETED", old, old)

    def replace(self, objects: list[Obj], version: int) -> list[Change]:
        """Make the store what a list at ``version`` returned: objects the list lacks are
        deleted unless the store holds them at a newer version than the list."""
        listed = {object_key(o): o for o in objects}
        changes: list[Change] = []
        with self._lock:
            self._tombstones.clear()
            for key, old in list(self._objects.items()):
                if key not in listed and resource_version(old) <= version:
                    self._put(key, None, old)
                    changes.append(Change("DELETED", old, old))
        for obj in objects:
            change = self.upsert(obj)
            if change is not None:
                changes.append(change)
        return changes

    def _put(self, key: Key, obj: Obj | None, old: Obj | None) -> None:
        for name, indexer in self._indexers.items():
            index = self._indexes[name]
            if old is not None:
                for value in indexer(old):
                    holders = index.get(value)
                    if holders is not None:
                        holders.discard(key)
                        if not holders:
                            del index[value]
            if obj is not None:
                for value in indexer(obj):
                    index.setdefault(value, set()).add(key)
        if obj is None:
            del self._objects[key]
        else:
            self._objects[key] = obj

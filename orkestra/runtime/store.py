"""The local mirror of one resource type: objects by (namespace, name), kept in
resourceVersion order, with secondary indexes.

An informer fills it from list and watch; the runtime's own writes go in too (write-through),
so a reconcile sees what it just wrote. Both sources can arrive in either order, so the rule
is that an object never replaces a newer version of itself: an update or a deletion that
carries an older resourceVersion than the one held is dropped, and an object the runtime
deleted leaves a tombstone so a late event cannot bring it back. Indexes map a value
computed from an object (an owner label, an owner key) to the keys holding it, so the
engine's ``orkestra-owner=NAME`` lists cost a lookup, not a scan. A lock makes the store
safe to read from other threads (a typed hook's, the metrics') while the informers write it.

**Objects are kept encoded.** Each entry is a small record: the resourceVersion as a
number, the object as its JSON bytes (msgspec, without ``managedFields``) and the index
values it was filed under. Every read decodes a fresh object, so no reader can see (or
make) a change to what another reader holds, and nothing needs copying. The reason is
memory: for 02-katalog-api the decoded WebApp, Deployment and Service of one CR are ~13 KiB
of dicts and strings (tracemalloc), their JSON 3.2 KiB; at 10,000 CRs the runtime's peak
RSS was 213 MiB with decoded objects. Decoding costs 2-5 µs per object, and a reconcile
reads each object of its CR a handful of times (``CachedCluster`` decodes each version once
per reconcile). Fewer live containers also make the garbage collector's full passes
shorter. :meth:`Store.holds` answers, without decoding anything, whether an object at some
version would change the store (the informer uses it to drop the echoes of the runtime's
own writes before decoding them).

**Writes in flight.** The echo of a write can reach the informer before the worker that
made the write has stored the server's answer (the event and the response leave the server
together; which thread runs first is up to the scheduler), and would then pass for someone
else's change and cost a reconcile that finds nothing to do: one per CR of 02-katalog-api
in the benchmark of issue 9. A worker therefore marks the object it writes
(:meth:`Store.begin_write`); the informer holds back that object's events meanwhile
(:meth:`Store.hold_back`), and :meth:`Store.end_write`, once the answer is stored, hands
them to :attr:`Store.on_release` to be applied as usual: an echo is then recognised, any
other event is a change as before (the version order decides, so applying it late loses
nothing).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable

import msgspec

from orkestra.kubeobjects import KubeObject

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
Indexer = Callable[[KubeObject], Iterable[str]]
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()


def object_key(obj: KubeObject) -> Key:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


def version_number(text: object) -> int:
    """A resourceVersion as a number (-1 when absent or not numeric, which makes any other
    version count as newer)."""
    return int(text) if isinstance(text, str) and text.isdigit() else -1


def resource_version(obj: KubeObject) -> int:
    """The object's resourceVersion as a number (see :func:`version_number`)."""
    return version_number((obj.get("metadata") or {}).get("resourceVersion"))


def label_indexer(label: str) -> Indexer:
    """Index objects by the value of one label."""

    def values(obj: KubeObject) -> Iterable[str]:
        value = (obj["metadata"].get("labels") or {}).get(label)
        return (value,) if value is not None else ()

    return values


def encode_object(obj: KubeObject) -> bytes:
    """The bytes a store keeps for ``obj`` (``managedFields`` left out)."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        slim = meta.copy()
        del slim["managedFields"]
        obj = {**obj, "metadata": slim}
    return _ENCODER.encode(obj)


def decode_object(data: bytes) -> KubeObject:
    """The object in ``data``, bytes :func:`encode_object` made (so not checked again)."""
    obj: KubeObject = _DECODER.decode(data)
    return obj


class Change:
    """What a list or an event did to the store: ``type`` is ADDED, MODIFIED or DELETED;
    ``obj`` the object now (for DELETED: the one removed); ``old`` the previous object
    (None when added), decoded only when asked for."""

    __slots__ = ("_old", "_old_data", "obj", "type")

    def __init__(
        self,
        type: str,
        obj: KubeObject,
        old: KubeObject | None = None,
        *,
        old_data: bytes | None = None,
    ) -> None:
        self.type = type
        self.obj = obj
        self._old = old
        self._old_data = old_data

    @property
    def old(self) -> KubeObject | None:
        if self._old is None and self._old_data is not None:
            self._old = decode_object(self._old_data)
        return self._old

    def __repr__(self) -> str:
        return f"Change({self.type}, {object_key(self.obj)})"


class _Record:
    __slots__ = ("data", "values", "version")

    def __init__(self, version: int, data: bytes, values: tuple[tuple[str, ...], ...]) -> None:
        self.version = version
        self.data = data
        self.values = values  # per indexer, the values this object is filed under


class Store:
    """Objects of one resource type, thread-safe, ordered by resourceVersion."""

    def __init__(self, indexers: dict[str, Indexer] | None = None) -> None:
        self._records: dict[Key, _Record] = {}
        self._tombstones: dict[Key, int] = {}
        self._indexers = list((indexers or {}).items())
        # value -> the key holding it, or the set of keys when several do (one key is the
        # usual case: one child of a kind per owner; a set would cost 216 bytes more)
        self._indexes: dict[str, dict[str, Key | set[Key]]] = {n: {} for n, _ in self._indexers}
        self._lock = threading.Lock()
        self._writing: dict[Key, int] = {}  # objects being written: writes in flight
        self._held: dict[Key, list[bytes]] = {}  # their watch events meanwhile, in order
        self.on_release: Callable[[list[bytes]], None] | None = None

    # -- reads ------------------------------------------------------------------------
    def get(self, key: Key) -> KubeObject | None:
        """A fresh copy of the object at ``key``."""
        data = self.get_raw(key)
        return None if data is None else decode_object(data)

    def get_raw(self, key: Key) -> bytes | None:
        """The encoded object at ``key`` (the same bytes object until it changes)."""
        record = self._records.get(key)
        return None if record is None else record.data

    def items(self, namespace: str | None = None) -> list[KubeObject]:
        """All objects (of one namespace), sorted by namespace and name."""
        return [decode_object(d) for d in self.items_raw(namespace)]

    def items_raw(self, namespace: str | None = None) -> list[bytes]:
        with self._lock:
            keys = sorted(k for k in self._records if namespace is None or k[0] == namespace)
            return [self._records[k].data for k in keys]

    def by_index(self, index: str, value: str) -> list[KubeObject]:
        """Objects whose indexer gives ``value``, sorted by namespace and name."""
        return [decode_object(d) for d in self.by_index_raw(index, value)]

    def by_index_raw(self, index: str, value: str) -> list[bytes]:
        with self._lock:
            holders = self._indexes[index].get(value)
            if holders is None:
                return []
            if isinstance(holders, tuple):
                return [self._records[holders].data]
            return [self._records[k].data for k in sorted(holders)]

    def holds(self, key: Key, version: int) -> bool:
        """Whether an object at ``key`` and ``version`` would change nothing: the store has
        it at that version or a newer one, or deleted it at a newer one."""
        if version < 0:
            return False
        record = self._records.get(key)
        if record is not None and record.version >= version:
            return True
        return self._tombstones.get(key, -1) >= version

    def list_keys(self) -> list[Key]:
        with self._lock:
            return list(self._records)

    def indexed(self, index: str) -> bool:
        return index in self._indexes

    def __len__(self) -> int:
        return len(self._records)

    # -- writes in flight ---------------------------------------------------------------
    def begin_write(self, key: Key) -> None:
        """A write to the object at ``key`` is about to be sent."""
        with self._lock:
            self._writing[key] = self._writing.get(key, 0) + 1

    def end_write(self, key: Key) -> None:
        """The write to ``key`` has ended (its answer, if any, is stored): the events held
        back meanwhile go to :attr:`on_release`."""
        with self._lock:
            left = self._writing.pop(key) - 1
            if left:
                self._writing[key] = left
                return
            held = self._held.pop(key, None)
        if held and self.on_release is not None:
            self.on_release(held)

    def hold_back(self, key: Key, line: bytes) -> bool:
        """Keep ``line``, a watch event of the object at ``key``, until the write to it in
        flight ends; False (nothing kept) when there is none, or nobody to release it to."""
        with self._lock:
            if key not in self._writing or self.on_release is None:
                return False
            self._held.setdefault(key, []).append(line)
            return True

    # -- writes -----------------------------------------------------------------------
    def upsert(self, obj: KubeObject) -> Change | None:
        """Store ``obj`` unless the store holds it at the same or a newer version (or it was
        deleted at a newer one); the change made, or None."""
        namespace, name = object_key(obj)
        key = (sys.intern(namespace), name)  # one string per namespace, not one per object
        version = resource_version(obj)
        if self.holds(key, version):  # checked again under the lock below
            return None
        data = encode_object(obj)
        values = tuple(tuple(indexer(obj)) for _, indexer in self._indexers)
        with self._lock:
            old = self._records.get(key)
            if old is not None and old.version >= version >= 0:
                return None
            if self._tombstones.get(key, -1) >= version >= 0:
                return None
            self._tombstones.pop(key, None)
            self._put(key, _Record(version, data, values), old)
        if old is None:
            return Change("ADDED", obj)
        return Change("MODIFIED", obj, old_data=old.data)

    def remove(self, obj: KubeObject, *, tombstone: bool = False) -> Change | None:
        """Drop the object ``obj`` names, unless the store holds a newer version of it.
        ``tombstone`` remembers the deletion so older events cannot bring it back."""
        key = object_key(obj)
        version = resource_version(obj)
        with self._lock:
            old = self._records.get(key)
            if old is not None and old.version > version >= 0:
                return None
            if tombstone:
                self._tombstones[key] = max(version, self._tombstones.get(key, -1))
            else:
                self._tombstones.pop(key, None)
            if old is None:
                return None
            self._put(key, None, old)
        gone = decode_object(old.data)
        return Change("DELETED", gone, gone)

    def replace(self, objects: list[KubeObject], version: int) -> list[Change]:
        """Make the store what a list at ``version`` returned: objects the list lacks are
        deleted unless the store holds them at a newer version than the list."""
        self.forget_tombstones()
        changes = self.prune({object_key(o) for o in objects}, version)
        for obj in objects:
            change = self.upsert(obj)
            if change is not None:
                changes.append(change)
        return changes

    def forget_tombstones(self) -> None:
        """A list starts: what it returns goes in, whatever was deleted before."""
        with self._lock:
            self._tombstones.clear()

    def prune(self, listed: set[Key], version: int) -> list[Change]:
        """The end of a list at ``version`` that returned ``listed``: delete the objects it
        lacks, unless the store holds them at a newer version than the list."""
        gone: list[bytes] = []
        with self._lock:
            for key, old in list(self._records.items()):
                if key not in listed and old.version <= version:
                    self._put(key, None, old)
                    gone.append(old.data)
        changes = []
        for data in gone:
            obj = decode_object(data)
            changes.append(Change("DELETED", obj, obj))
        return changes

    def _put(self, key: Key, record: _Record | None, old: _Record | None) -> None:
        if record is not None and old is not None and record.values == old.values:
            self._records[key] = record  # filed under the same values: indexes unchanged
            return
        for position, (name, _) in enumerate(self._indexers):
            index = self._indexes[name]
            if old is not None:
                for value in old.values[position]:
                    holders = index.get(value)
                    if holders == key:
                        del index[value]
                    elif isinstance(holders, set):
                        holders.discard(key)
                        if len(holders) == 1:
                            index[value] = holders.pop()
            if record is not None:
                for value in record.values[position]:
                    holders = index.get(value)
                    if holders is None or holders == key:
                        index[value] = key
                    elif isinstance(holders, set):
                        holders.add(key)
                    else:
                        index[value] = {holders, key}
        if record is None:
            del self._records[key]
        else:
            self._records[key] = record

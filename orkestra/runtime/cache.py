"""``CachedCluster``: the engine's :class:`~orkestra.engine.api.ClusterAPI` over a real API
server, reading from informer caches and writing to the server.

Reads of a kind some informer has synced come from its store (the ``orkestra-owner=NAME``
lists the engine makes use the store's label index); any other kind is read live. Writes go
to the API server (create, update by PUT with the cached resourceVersion, status through
the ``/status`` subresource when the type has one, delete with background propagation) and
the object the server returns goes into the store at once (write-through, never over a newer
version), so the next read of the same reconcile sees it, and the change goes to the
informer's handlers of other controllers (the write's watch echo will be dropped as held
already; the writing controller's own handlers are left out: it knows what it wrote, and
runs again after a write as it must). Failures that a fresh read fixes
are not given to the engine, which would record them in the CR status: a 409 Conflict or
an AlreadyExists refreshes the object in the store by a GET, a write to an object that has
vanished drops it, and both raise :class:`Retry`, as does a server that is unavailable; the
controller then reconciles the key again. Other API errors (Invalid, Forbidden ...) reach
the engine as they would in simulate. One instance per worker: it counts the writes of the
reconcile in progress.

Stores keep objects encoded (see :mod:`~orkestra.runtime.store`), so reads decode. The
engine reads the same objects more than once a reconcile (02-katalog-api: each child in
its kind's list, then by name when it is applied), so each stored version is decoded once
per reconcile and handed out again while the store holds the same bytes
(:meth:`CachedCluster.begin` starts a reconcile afresh). The engine never mutates what it
reads (a test holds it to that), so sharing within one reconcile is safe; no object is
shared between reconciles or with the store. Child lists by the owner label, the engine's
usual list, are the index lookup and nothing more.

It is the engine's :class:`~orkestra.engine.api.CrossReader` too: ``cross`` peers are read
from the target CRD's informer store alone (a name is a key lookup, labels a scan), never
from the API server, and sources through the process's
:class:`~orkestra.runtime.cross.CrossSources` (shared, for its cache).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from orkestra.cluster.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
)
from orkestra.cluster.selectors import Matcher, field_matcher, label_matcher
from orkestra.engine.api import PeerQuery, RemoteQuery
from orkestra.engine.build.base import OWNER_NAME_LABEL
from orkestra.engine.cross import peer_matches
from orkestra.kubeobjects import JsonDict, KubeObject, LabelSelector
from orkestra.runtime.cross import CrossSources
from orkestra.runtime.informer import Informers, slim
from orkestra.runtime.kube import KubeClient, Resource
from orkestra.runtime.store import Change, Key, Store, decode_object

T = TypeVar("T")
DECODED_LIMIT = 256  # objects a reconcile keeps decoded (a full scan decodes the rest anew)


class Retry(Exception):  # noqa: N818 - an outcome, not an error
    """Reconcile this key again from fresh reads (stale cache, transient server failure).
    Deliberately not an ApiError: the engine must not record it in the CR status."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict


@dataclass(frozen=True)
class Write:
    verb: str  # create, update, status, delete
    resource: str
    namespace: str
    name: str


@functools.lru_cache(maxsize=4096)
def _label_matcher(selector: str) -> Matcher:
    return label_matcher(selector)


@functools.lru_cache(maxsize=256)
def _field_matcher(selector: str | None) -> Matcher:
    return field_matcher(selector)


@functools.lru_cache(maxsize=4096)
def _owner_term(selector: str) -> tuple[str | None, bool]:
    """The value of the ``orkestra-owner=VALUE`` term of a selector string (None: there is
    none), and whether that term is the whole selector (then the index lookup is the
    answer, with nothing left to match)."""
    terms = selector.split(",")
    for term in terms:
        key, sep, value = term.partition("=")
        if sep and key.strip() == OWNER_NAME_LABEL and not key.endswith("!"):
            return value.lstrip("=").strip(), len(terms) == 1
    return None, False


class CachedCluster:
    """The cluster as one worker's reconciles see it."""

    def __init__(
        self,
        client: KubeClient,
        informers: Informers,
        cross: CrossSources | None = None,
        *,
        origin: object = None,
    ) -> None:
        """``cross``: the process's; without it peers are never read (no target is known)
        and sources are cached for this instance alone. ``origin``: whose worker this is
        (the controller): the changes its writes make are not handed to that origin's
        handlers."""
        self.client = client
        self.informers = informers
        self.origin = origin
        self.cross = cross if cross is not None else CrossSources(client)
        self.writes: list[Write] = []
        self._decoded: dict[int, tuple[bytes, KubeObject]] = {}

    def begin(self) -> None:
        """A reconcile starts: forget the last one's writes and decoded objects."""
        self.writes.clear()
        self._decoded.clear()

    # -- reads ------------------------------------------------------------------------
    def find(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> KubeObject | None:
        cached = self.informers.synced_store(api_version, kind)
        if cached is not None:
            res, store = cached
            data = store.get_raw((res.namespace_of(namespace), name))
            return None if data is None else self._object(data)
        res = self._resource(api_version, kind)
        try:
            return slim(self._live(lambda: self.client.get(res, name, namespace)))
        except NotFoundError:
            return None

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | None = None,
        record: bool = True,
    ) -> list[KubeObject]:
        cached = self.informers.synced_store(api_version, kind)
        if cached is None:
            res = self._resource(api_version, kind)
            items = self._live(lambda: self.client.list_items(res, namespace))
            for item in items:
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", api_version)
                slim(item)
        else:
            res, store = cached
            owner, whole = (
                _owner_term(label_selector) if isinstance(label_selector, str) else (None, False)
            )
            raws = (
                store.items_raw() if owner is None else store.by_index_raw(OWNER_NAME_LABEL, owner)
            )
            items = [self._object(d) for d in raws]
            if whole and field_selector is None and (namespace is None or not res.namespaced):
                return items  # the engine's child lists: the index lookup is the answer
        labels = (
            _label_matcher(label_selector)
            if isinstance(label_selector, str)
            else label_matcher(label_selector)
        )
        fields = _field_matcher(field_selector)
        return [
            o
            for o in items
            if (
                namespace is None
                or not res.namespaced
                or o["metadata"].get("namespace") == namespace
            )
            and labels(o["metadata"].get("labels") or {})
            and fields(o)
        ]

    def _object(self, data: bytes) -> KubeObject:
        """The stored object ``data``, decoded once per reconcile (while it stays the
        same bytes: a write or an event replaces them)."""
        held = self._decoded.get(id(data))
        if held is not None and held[0] is data:
            return held[1]
        obj = decode_object(data)
        if len(self._decoded) < DECODED_LIMIT:
            self._decoded[id(data)] = (data, obj)
        return obj

    # -- cross ------------------------------------------------------------------------
    def cross_peers(self, query: PeerQuery) -> builtins.list[KubeObject] | None:
        target = self.cross.target(query)
        if target is None:
            return None
        if target.hidden:
            return []
        cached = self.informers.synced_store(target.api_version, target.kind)
        if cached is None:
            return None
        res, store = cached
        if query.match_labels:
            raws = store.items_raw()
        else:
            raw = store.get_raw((query.namespace if res.namespaced else "", query.name))
            raws = [] if raw is None else [raw]
        return [obj for obj in map(self._object, raws) if peer_matches(obj, query)]

    def cross_remote(self, query: RemoteQuery) -> JsonDict | None:
        return self.cross.remote(query)

    # -- writes -----------------------------------------------------------------------
    def create(self, obj: KubeObject, *, record: bool = True) -> KubeObject:
        res = self._resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        with self._writing(res, meta.get("namespace"), meta.get("name")):
            try:
                created = self._live(lambda: self.client.create(res, obj))
            except AlreadyExistsError:
                self._refresh(res, obj)
                raise Retry(f"{res.plural} {_where(obj)} already exists; read it again") from None
            return self._written("create", res, created)

    def update(self, obj: KubeObject, *, subresource: str = "", verb: str = "update") -> KubeObject:
        return self._replace(self._resource(obj["apiVersion"], obj["kind"]), obj, subresource, verb)

    def update_status(self, obj: KubeObject) -> KubeObject:
        res = self._resource(obj["apiVersion"], obj["kind"])
        return self._replace(res, obj, "status" if res.has_status else "", "update")

    def _replace(self, res: Resource, obj: KubeObject, subresource: str, verb: str) -> KubeObject:
        meta = obj["metadata"]
        with self._writing(res, meta.get("namespace"), meta.get("name")):
            try:
                updated = self._live(lambda: self.client.replace(res, obj, subresource))
            except ConflictError:
                self._refresh(res, obj)
                raise Retry(
                    f"{res.plural} {_where(obj)} changed; read it again", conflict=True
                ) from None
            except NotFoundError:
                self._forget(res, obj)
                raise Retry(f"{res.plural} {_where(obj)} is gone") from None
            return self._written("status" if subresource == "status" else verb, res, updated)

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        record: bool = True,
    ) -> KubeObject:
        res = self._resource(api_version, kind)
        with self._writing(res, namespace, name):
            try:
                result = self._live(lambda: self.client.delete(res, name, namespace))
            except NotFoundError:
                result = {}
            self.writes.append(Write("delete", res.plural, res.namespace_of(namespace), name))
            store = self._store(res)
            if store is None:
                return result
            if result.get("kind") == kind and result["metadata"].get("deletionTimestamp"):
                # finalizers hold it: it stays, marked
                self._share(res, store.upsert(slim(result)), self.origin)
                return result
            key = (res.namespace_of(namespace), name)
            gone = result if result.get("kind") == kind else store.get(key)
            if gone is not None:
                self._share(res, store.remove(gone, tombstone=True), self.origin)
            return result

    # -- helpers ----------------------------------------------------------------------
    def _resource(self, api_version: str, kind: str) -> Resource:
        return self._live(lambda: self.client.resource(api_version, kind))

    @staticmethod
    def _live(call: Callable[[], T]) -> T:
        try:
            return call()
        except ServiceUnavailableError as exc:
            raise Retry(exc.message) from None

    def _writing(self, res: Resource, namespace: str | None, name: str | None) -> _Writing:
        """Around a write of one object and the storing of its answer: the object's watch
        events wait meanwhile (see :meth:`Store.begin_write`)."""
        store = self._store(res)
        if store is None or not name:
            return _Writing(None, ("", ""))
        return _Writing(store, (res.namespace_of(namespace), name))

    def _store(self, res: Resource) -> Store | None:
        cached = self.informers.synced_store(res.api_version, res.kind)
        return None if cached is None else cached[1]

    def _written(self, verb: str, res: Resource, obj: KubeObject) -> KubeObject:
        meta = obj["metadata"]
        self.writes.append(Write(verb, res.plural, meta.get("namespace", ""), meta["name"]))
        store = self._store(res)
        if store is not None:
            self._share(res, store.upsert(slim(obj)), self.origin)
        return obj

    def _share(self, res: Resource, change: Change | None, origin: object) -> None:
        """Hand a change made to a shared store to its informer's handlers but ``origin``'s
        (None: every one's, for what was read back: somebody else's change)."""
        if change is None:
            return
        informer = self.informers.synced_informer(res.api_version, res.kind)
        if informer is not None:
            informer.wrote(change, origin)

    def _refresh(self, res: Resource, obj: KubeObject) -> None:
        """Read the object again into the store (or drop it if it is gone)."""
        store = self._store(res)
        if store is None:
            return
        meta = obj["metadata"]
        try:
            current = self._live(lambda: self.client.get(res, meta["name"], meta.get("namespace")))
        except NotFoundError:
            self._forget(res, obj)
            return
        self._share(res, store.upsert(slim(current)), None)

    def _forget(self, res: Resource, obj: KubeObject) -> None:
        store = self._store(res)
        if store is None:
            return
        meta = obj["metadata"]
        held = store.get((res.namespace_of(meta.get("namespace")), meta["name"]))
        if held is not None:
            self._share(res, store.remove(held), None)


class _Writing:
    """:meth:`CachedCluster._writing`'s context (a class: every write enters one, and a
    generator-based context manager cost three times as much)."""

    __slots__ = ("key", "store")

    def __init__(self, store: Store | None, key: Key) -> None:
        self.store = store
        self.key = key

    def __enter__(self) -> None:
        if self.store is not None:
            self.store.begin_write(self.key)

    def __exit__(self, *exc: object) -> None:
        if self.store is not None:
            self.store.end_write(self.key)


def _where(obj: KubeObject) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]

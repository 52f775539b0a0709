"""The object store: API-server semantics over plain dicts.

A stored object is never changed in place: every write stores a new dict. Readers share
stored objects without copying: what a read or a write answers is the stored object itself
(or a shallow copy of it), which callers must never mutate (clone it first; the writes copy
what they are given, so ``update({**obj, "status": new})`` is safe). Every change emits a
:class:`WatchEvent` into a bounded per-resource history (for watches that resume), to
subscribers (for servers that stream) and, with ``data_dir``, to an on-disk journal. With
``record`` (simulate's mode) every call is also kept as an :class:`Operation` and every
event in :attr:`MemoryCluster.events`. A lock makes the store safe to use from several
threads.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, NamedTuple, TypedDict

from orkestra.cluster import defaults, fieldmanager, policies
from orkestra.cluster.admission import (
    CRDS,
    NAMESPACES,
    Mutate,
    admit,
    has_generation,
    initial_status,
)
from orkestra.cluster.data import MetaKey, as_object, clone
from orkestra.cluster.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
)
from orkestra.cluster.gc import Collector
from orkestra.cluster.history import EventHistory, WatchEvent
from orkestra.cluster.kubeschema import SchemaNode, crd_node, kind_node
from orkestra.cluster.paging import Page, decode_continue, encode_continue, in_order
from orkestra.cluster.patch import json_patch, merge_patch
from orkestra.cluster.persist import Journal
from orkestra.cluster.resources import (
    BUILTIN_TYPES,
    ResourceType,
    crd_spec,
    crd_types,
    plural_of,
)
from orkestra.cluster.selectors import field_matcher, label_matcher
from orkestra.cluster.strategic import strategic_merge_patch
from orkestra.cluster.uids import new_uid
from orkestra.kubeobjects import Json, KubeObject, ManagedFieldsEntry, ObjectMeta, as_json
from orkestra.units import format_timestamp

ObjList = list[KubeObject]
EventList = list[WatchEvent]
Clock = Callable[[], datetime]
Subscriber = Callable[[WatchEvent], None]
ObjectKey = tuple[str, str]  # namespace, name

_SERVER_METADATA: tuple[MetaKey, ...] = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
)
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_PRECONDITIONS: tuple[Literal["uid", "resourceVersion"], ...] = ("uid", "resourceVersion")


class Preconditions(TypedDict, total=False):
    """DeleteOptions.preconditions: what the object must still be for the delete to go on."""

    uid: str
    resourceVersion: str


class Operation(NamedTuple):
    """One API call: verb (create, update, patch, delete, get, list), the resource (plural,
    with ``/status`` for the subresource), namespace, name and the resourceVersion after
    (a tuple: simulate logs one per call)."""

    seq: int
    verb: str
    group: str
    resource: str
    namespace: str
    name: str
    resource_version: int


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _body(obj: KubeObject) -> dict[str, object]:
    """The parts of an object that count for ``generation``: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _as_version(obj: KubeObject, rt: ResourceType) -> KubeObject:
    """An object as read through one served version (the None conversion strategy)."""
    if obj.get("apiVersion") == rt.api_version:
        return obj
    return {**obj, "apiVersion": rt.api_version}


def conflict(rt: ResourceType, name: str) -> ConflictError:
    return ConflictError(
        f'Operation cannot be fulfilled on {rt.qualified} "{name}": the '
        "object has been modified; please apply your changes to the latest "
        "version and try again"
    )


class MemoryCluster:
    """An in-memory Kubernetes API.

    ``lenient_kinds`` accepts objects of kinds nobody registered (as a fake dynamic client
    does) instead of failing like a real server; ``record`` keeps the operation and event
    logs simulate reads; ``history_window`` bounds the events kept per resource for
    watches; ``data_dir`` persists every change; ``track_fields`` keeps ``managedFields``
    for the writers that name a field manager.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        lenient_kinds: bool = False,
        record: bool = True,
        history_window: int | None = None,
        data_dir: Path | None = None,
        track_fields: bool = False,
    ) -> None:
        self.clock: Clock = clock or _system_clock
        self._stamp: tuple[object, str] = (None, "")
        self.lenient_kinds = lenient_kinds
        self.record = record
        self.track_fields = track_fields
        self._types: dict[tuple[str, str], ResourceType] = {}
        self._served: dict[tuple[str, str, str], ResourceType] = {}
        self._kinds: dict[tuple[str, str], ResourceType] = {}
        self._objects: dict[tuple[str, str], dict[ObjectKey, KubeObject]] = {}
        self._order: dict[tuple[str, str], list[ObjectKey]] = {}  # sorted keys, once listed
        self._rv = 0
        self._seq = itertools.count(1)
        self._ips = defaults.ip_pool()
        self.operations: list[Operation] = []
        self.events: list[WatchEvent] = []
        self.history = EventHistory(history_window)
        self._subscribers: list[Subscriber] = []
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)
        self.gc = Collector(self)
        self._journal = Journal(data_dir) if data_dir is not None else None
        for rt in BUILTIN_TYPES:
            self.register_type(rt)
        with self._lock:
            if self._journal is not None and self._restore(self._journal):
                return
            for name in DEFAULT_NAMESPACES:
                self._create(
                    self._types[NAMESPACES],
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                )

    # -- types ------------------------------------------------------------------------
    def register_type(self, rt: ResourceType) -> None:
        with self._lock:
            self._types.setdefault(rt.key, rt)
            self._served[(rt.group, rt.version, rt.plural)] = rt
            self._kinds[(rt.api_version, rt.kind)] = rt
            self._objects.setdefault(rt.key, {})

    def register_crd(self, crd: KubeObject) -> list[ResourceType]:
        """Make a CRD's kinds known (what creating the CRD object does)."""
        with self._lock:
            types = crd_types(crd)
            old = [t for t in self._served.values() if t.key in {n.key for n in types}]
            for rt in old:
                self._drop_type(rt)
            storage = next(
                (v.get("name") for v in crd_spec(crd).get("versions") or [] if v.get("storage")),
                None,
            )
            for rt in sorted(types, key=lambda t: t.version != storage):
                self.register_type(rt)
            return types

    def unregister_crd(self, crd: KubeObject) -> None:
        with self._lock:
            for rt in crd_types(crd):
                self._drop_type(rt)
                self._types.pop(rt.key, None)
                self._objects.pop(rt.key, None)
                self._order.pop(rt.key, None)
                self.history.forget(*rt.key)

    def _drop_type(self, rt: ResourceType) -> None:
        self._served.pop((rt.group, rt.version, rt.plural), None)
        self._kinds.pop((rt.api_version, rt.kind), None)
        if self._types.get(rt.key) is rt:
            self._types.pop(rt.key)

    def types(self) -> list[ResourceType]:
        """Every served (group, version, resource)."""
        with self._lock:
            return list(self._served.values())

    def resolve(self, group: str, version: str, plural: str) -> ResourceType:
        """The type served at ``/apis/<group>/<version>/<plural>``."""
        rt = self._served.get((group, version, plural))
        if rt is None:
            where = f"{group}/{version}" if group else version
            raise NotFoundError(
                f"the server could not find the requested resource ({plural} in {where})"
            )
        return rt

    def type_for(self, api_version: str, kind: str) -> ResourceType:
        rt = self._kinds.get((api_version, kind))
        if rt is not None:
            return rt
        if self.lenient_kinds and kind:
            group, _, version = api_version.rpartition("/")
            guessed = ResourceType(
                group=group, version=version or api_version, kind=kind, plural=plural_of(kind)
            )
            self.register_type(guessed)
            return guessed
        raise NotFoundError(f'no matches for kind "{kind}" in version "{api_version}"')

    # -- bookkeeping ------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def now(self) -> str:
        """The clock as an RFC 3339 timestamp (formatted once per second: every write
        stamps several fields; the system clock is read as a number of seconds)."""
        if self.clock is _system_clock:
            second = int(time.time())
            if second != self._stamp[0]:
                self._stamp = (second, format_timestamp(datetime.fromtimestamp(second, UTC)))
        else:
            moment = self.clock().replace(microsecond=0)
            if moment != self._stamp[0]:
                self._stamp = (moment, format_timestamp(moment))
        return self._stamp[1]

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def _log(self, verb: str, rt: ResourceType, namespace: str, name: str, sub: str = "") -> None:
        if self.record:
            resource = rt.plural + (f"/{sub}" if sub else "")
            self.operations.append(
                Operation(
                    seq=next(self._seq),
                    verb=verb,
                    group=rt.group,
                    resource=resource,
                    namespace=namespace,
                    name=name,
                    resource_version=self._rv,
                )
            )

    def _emit(
        self, kind: str, rt: ResourceType, obj: KubeObject, previous: KubeObject | None = None
    ) -> None:
        event = WatchEvent(
            type=kind,
            group=rt.group,
            resource=rt.plural,
            object=obj,
            resource_version=self._rv,
            previous=previous,
        )
        self.history.append(event)
        if self.record:
            self.events.append(event)
        if self._journal is not None and self._journal.record(event):
            self._journal.compact(self._rv, self._all_objects())
        for subscriber in list(self._subscribers):
            subscriber(event)
        self.changed.notify_all()

    def _versioned(self, obj: KubeObject) -> KubeObject:
        """A new version of ``obj`` with the next resourceVersion."""
        self._rv += 1
        meta: ObjectMeta = {**obj["metadata"], "resourceVersion": str(self._rv)}
        return {**obj, "metadata": meta}

    def bucket(self, rt: ResourceType) -> dict[ObjectKey, KubeObject]:
        found = self._objects.get(rt.key)  # not setdefault: no new dict on every call
        if found is None:
            found = self._objects[rt.key] = {}
        return found

    def _all_objects(self) -> Iterator[tuple[str, str, KubeObject]]:
        for (group, plural), bucket in self._objects.items():
            for obj in bucket.values():
                yield group, plural, obj

    def _restore(self, journal: Journal) -> bool:
        restored = journal.load()
        if not restored.objects:
            return False
        for group, plural, obj in restored.objects:
            if (group, plural) == CRDS:
                self.register_crd(obj)
        for group, plural, obj in restored.objects:
            rt = self._types.get((group, plural))
            if rt is not None:
                self._put(rt, obj)
        self._rv = restored.resource_version
        self.history = EventHistory(self.history.window, start=self._rv)
        return True

    @staticmethod
    def scope(rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "default") if rt.namespaced else ""

    def _existing(self, rt: ResourceType, namespace: str, name: str) -> KubeObject:
        found = self.bucket(rt).get((namespace, name))
        if found is None:
            raise NotFoundError(f'{rt.qualified} "{name}" not found')
        return found

    def _put(self, rt: ResourceType, obj: KubeObject) -> None:
        meta = obj["metadata"]
        key = (str(meta.get("namespace", "")), str(meta["name"]))
        bucket = self.bucket(rt)
        old = bucket.get(key)
        bucket[key] = obj
        if old is None:
            self._order.pop(rt.key, None)  # a new position
        self.gc.index(rt, old, obj)

    def _drop(self, rt: ResourceType, obj: KubeObject) -> None:
        meta = obj["metadata"]
        self.bucket(rt).pop((str(meta.get("namespace", "")), str(meta["name"])), None)
        self._order.pop(rt.key, None)
        self.gc.index(rt, obj, None)

    # -- admission (the server's own checks and defaulting) ---------------------------
    def _namespace_open(self, rt: ResourceType, namespace: str) -> None:
        if not rt.namespaced:
            return
        ns = self.bucket(self._types[NAMESPACES]).get(("", namespace))
        if ns is None:
            raise NotFoundError(f'namespaces "{namespace}" not found')
        if ns["metadata"].get("deletionTimestamp"):
            raise ForbiddenError(
                f'{rt.qualified} "…" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being "
                "terminated"
            )

    def _judge(
        self,
        operation: str,
        rt: ResourceType,
        ns: str,
        name: str,
        obj: KubeObject | None,
        old: KubeObject | None,
        subresource: str = "",
        dry_run: bool = False,
    ) -> None:
        """Run the bound ValidatingAdmissionPolicies (skipped while nothing is bound: most
        stores, simulate's among them, never have a binding, and every write passes here)."""
        if self._objects.get(policies.BINDINGS):
            policies.enforce(
                policies.Request(
                    operation=operation,
                    rt=rt,
                    namespace=ns,
                    name=name,
                    obj=obj,
                    old=old,
                    subresource=subresource,
                    dry_run=dry_run,
                ),
                self,
            )

    # -- reads (shared objects: callers must not mutate) ------------------------------
    def read(self, rt: ResourceType, namespace: str | None, name: str) -> KubeObject:
        with self._lock:
            return _as_version(self._existing(rt, self.scope(rt, namespace), name), rt)

    def select(
        self,
        rt: ResourceType,
        namespace: str | None,
        *,
        label_selector: str | Mapping[str, object] | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        """Matching objects in name order (namespace=None: all namespaces)."""
        with self._lock:
            matches = _matcher(label_selector, field_selector)
            return [_as_version(obj, rt) for obj in self._in_order(rt, namespace) if matches(obj)]

    def page(
        self,
        rt: ResourceType,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> Page:
        """One page of a list (``limit`` 0: everything), as ``kubectl`` pages lists."""
        with self._lock:
            after: ObjectKey | None = None
            version = self._rv
            if continue_token:
                version, after = decode_continue(continue_token, self.history.oldest(*rt.key))
            matches = _matcher(label_selector, field_selector)
            items: list[KubeObject] = []
            remaining = 0
            at = version if continue_token else None
            for obj in self._in_order(rt, namespace, at=at, after=after):
                if not matches(obj):
                    continue
                if limit and len(items) == limit:
                    remaining += 1
                else:
                    items.append(_as_version(obj, rt))
        token = encode_continue(version, _position(items[-1])) if remaining else ""
        return Page(items, version, token, remaining)

    def _in_order(
        self,
        rt: ResourceType,
        namespace: str | None,
        *,
        at: int | None = None,
        after: ObjectKey | None = None,
    ) -> Iterator[KubeObject]:
        """A type's objects by position (see :func:`~orkestra.cluster.paging.in_order`), as
        they were at ``at`` by undoing the later changes the watch history holds (what makes
        a continued list a consistent snapshot)."""
        keys = self._order.get(rt.key)
        if keys is None:
            keys = self._order[rt.key] = sorted(self.bucket(rt))
        then: dict[ObjectKey, KubeObject | None] = {}
        if at is not None:
            for event in self.history.since(at, rt.group, rt.plural):
                then.setdefault(_position(event.object), event.previous)
        return in_order(
            self.bucket(rt),
            keys,
            after=after,
            namespace=namespace if rt.namespaced else None,
            then=then,
        )

    def expire_history(self) -> None:
        """Forget every event so far: resuming a watch or continuing a list from an older
        version answers 410 Gone (what a compacted etcd does to slow clients)."""
        with self._lock:
            self.history = EventHistory(self.history.window, start=self._rv)

    def watch_events(
        self, rt: ResourceType, namespace: str | None, resource_version: int
    ) -> list[WatchEvent]:
        """Events of a resource after a version (410 Gone when no longer kept)."""
        with self._lock:
            return self.history.since(resource_version, rt.group, rt.plural, namespace)

    # -- writes -----------------------------------------------------------------------
    # The *_in methods are the API server's: they take ownership of the object they are
    # given and answer the stored object itself (shared: never mutate it). ``mutate`` is
    # mutating admission (admission.Mutate), called once the object is defaulted.
    def create_in(
        self,
        rt: ResourceType,
        namespace: str | None,
        obj: KubeObject,
        *,
        manager: str = "",
        dry_run: bool = False,
        mutate: Mutate | None = None,
    ) -> KubeObject:
        with self._lock:
            incoming = obj
            meta = incoming.setdefault("metadata", {})
            if rt.namespaced:
                meta["namespace"] = self.scope(rt, namespace or meta.get("namespace"))
            made = self._create(rt, incoming, dry_run=dry_run, manager=manager, mutate=mutate)
            self._log(
                "create", rt, str(made["metadata"].get("namespace", "")), made["metadata"]["name"]
            )
            return made

    def _create(
        self,
        rt: ResourceType,
        obj: KubeObject,
        *,
        dry_run: bool = False,
        manager: str = "",
        managed: list[ManagedFieldsEntry] | None = None,
        mutate: Mutate | None = None,
    ) -> KubeObject:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        namespace = self.scope(rt, meta.get("namespace"))
        if rt.namespaced:
            meta["namespace"] = namespace
            self._namespace_open(rt, namespace)
        else:
            meta.pop("namespace", None)
        for field in _SERVER_METADATA:
            meta.pop(field, None)
        if rt.has_status and rt.key != NAMESPACES:
            obj.pop("status", None)
        obj = admit(rt, obj, self._ips, mutate)
        meta = obj["metadata"]
        self._judge("CREATE", rt, namespace, meta["name"], obj, None, dry_run=dry_run)
        if (namespace, meta["name"]) in self.bucket(rt):
            raise AlreadyExistsError(f'{rt.qualified} "{meta["name"]}" already exists')
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = self.now()
        if has_generation(rt):
            meta["generation"] = 1
        initial_status(rt, obj)
        if managed:
            meta["managedFields"] = managed
        else:
            self._track(rt, None, obj, manager, "")
        if dry_run:
            return obj
        self._rv += 1  # the object is the store's own (given or admitted): no copy
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._put(rt, obj)
        if rt.key == CRDS:
            self.register_crd(obj)
        self._emit("ADDED", rt, obj)
        return obj

    def replace_in(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        obj: KubeObject,
        *,
        subresource: str = "",
        manager: str = "",
        dry_run: bool = False,
        verb: str = "update",
        managed: list[ManagedFieldsEntry] | None = None,
        mutate: Mutate | None = None,
    ) -> KubeObject:
        """PUT: replace an object (or, with ``subresource="status"``, only its status)."""
        with self._lock:
            ns = self.scope(rt, namespace)
            current = self._existing(rt, ns, name)
            wanted_rv = (obj.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            new = self._next_version(rt, current, obj, subresource, mutate)
            self._judge("UPDATE", rt, ns, name, new, current, subresource, dry_run)
            if managed is not None:
                new["metadata"] = {**new["metadata"], "managedFields": managed}
            else:
                self._track(rt, current, new, manager, subresource)
            self._log(verb, rt, ns, name, subresource)
            if new == current or dry_run:
                return new
            return self._commit(rt, ns, new, current)

    def _commit(
        self, rt: ResourceType, ns: str, new: KubeObject, new_from: KubeObject
    ) -> KubeObject:
        """Store a changed object (or finish deleting it when its last finalizer went).
        ``new`` is the store's own (its metadata may be the stored version's)."""
        self._rv += 1
        new["metadata"] = {**new["metadata"], "resourceVersion": str(self._rv)}
        stored = new
        if (
            stored["metadata"].get("deletionTimestamp")
            and not stored["metadata"].get("finalizers")
            and self.gc.releasable(rt, stored)
        ):
            return self.gc.remove(rt, ns, stored)
        self._put(rt, stored)
        if rt.key == CRDS:
            self.register_crd(stored)
        self._emit("MODIFIED", rt, stored, new_from)
        return stored

    def _next_version(
        self,
        rt: ResourceType,
        current: KubeObject,
        incoming: KubeObject,
        subresource: str,
        mutate: Mutate | None = None,
    ) -> KubeObject:
        if subresource == "status":
            new = self._with_status(rt, current, incoming)
            return new if mutate is None else self._with_status(rt, current, mutate(new, current))
        if subresource:
            raise BadRequestError(f"unknown subresource {subresource!r}")
        meta = incoming.setdefault("metadata", {})
        incoming["apiVersion"], incoming["kind"] = current["apiVersion"], current["kind"]
        if meta.get("name", current["metadata"]["name"]) != current["metadata"]["name"]:
            raise BadRequestError("the name of the object does not match the name on the URL")
        meta["name"] = current["metadata"]["name"]
        for key in _SERVER_METADATA:
            if key in current["metadata"]:
                meta[key] = current["metadata"][key]
            else:
                meta.pop(key, None)
        if "namespace" in current["metadata"]:
            meta["namespace"] = current["metadata"]["namespace"]
        else:
            meta.pop("namespace", None)
        if rt.has_status:
            if "status" in current:
                incoming["status"] = current["status"]
            else:
                incoming.pop("status", None)
        if current["metadata"].get("deletionTimestamp") and len(meta.get("finalizers") or []) > len(
            current["metadata"].get("finalizers") or []
        ):
            raise InvalidError(
                f'{rt.kind} "{meta.get("name")}" is invalid: '
                "metadata.finalizers: Forbidden: no new finalizers can be added "
                "if the object is being deleted"
            )
        incoming = admit(rt, incoming, self._ips, mutate, current)
        meta = incoming["metadata"]
        if has_generation(rt) and _body(incoming) != _body(current):
            meta["generation"] = current["metadata"].get("generation", 1) + 1
        return incoming

    def _with_status(
        self, rt: ResourceType, current: KubeObject, incoming: KubeObject
    ) -> KubeObject:
        new = current.copy()
        if "status" in incoming:
            new["status"] = incoming["status"]
        else:
            new.pop("status", None)
        if "status" in new and "status" in rt.rules.declared:  # the rest was checked already
            errors = rt.rules.child("status").validate(new["status"], "status")
            if errors:
                raise InvalidError(
                    f'{rt.kind} "{new["metadata"]["name"]}" is invalid: ' + ", ".join(errors),
                    details=errors,
                )
        return new

    def patch_in(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        patch: Json,
        patch_type: str = "merge",
        *,
        subresource: str = "",
        manager: str = "",
        force: bool = False,
        dry_run: bool = False,
        mutate: Mutate | None = None,
    ) -> KubeObject:
        """PATCH: ``merge``, ``json``, ``strategic`` (built-in kinds) or ``apply``
        (server-side apply, which creates a missing object)."""
        with self._lock:
            ns = self.scope(rt, namespace)
            if patch_type == "apply":
                return self._apply(
                    rt, ns, name, patch, manager, force, subresource, dry_run, mutate
                )
            current = self._existing(rt, ns, name)
            patched = self._patched(rt, current, patch, patch_type)
            wanted_rv = (patched.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            # a patch result shares what it did not change with the stored object: copy
            patched = clone(patched)
            patched.setdefault("metadata", {})["resourceVersion"] = ""
            return self.replace_in(
                rt,
                ns,
                name,
                patched,
                subresource=subresource,
                manager=manager,
                dry_run=dry_run,
                verb="patch",
                mutate=mutate,
            )

    def _patched(
        self, rt: ResourceType, current: KubeObject, patch: Json, patch_type: str
    ) -> KubeObject:
        patched: Json
        if patch_type == "merge":
            patched = merge_patch(as_json(current), patch)
        elif patch_type == "json":
            patched = json_patch(as_json(current), patch)
        elif patch_type == "strategic":
            if not isinstance(patch, dict):
                raise BadRequestError("a strategic merge patch must be a JSON object")
            patched = strategic_merge_patch(current, patch, self.schema_node(rt))
        else:
            raise BadRequestError(f"unsupported patch type {patch_type!r}")
        if not isinstance(patched, dict):
            raise BadRequestError("the patch must produce an object")
        return as_object(patched)

    def _apply(
        self,
        rt: ResourceType,
        ns: str,
        name: str,
        config: Json,
        manager: str,
        force: bool,
        subresource: str,
        dry_run: bool,
        mutate: Mutate | None,
    ) -> KubeObject:
        """Server-side apply: merge the configuration, own its fields, detect conflicts."""
        if not isinstance(config, dict):
            raise BadRequestError("an apply configuration must be an object")
        if not manager:
            raise BadRequestError(
                "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests"
            )
        current = self.bucket(rt).get((ns, name))
        if current is None and subresource:
            raise NotFoundError(f'{rt.qualified} "{name}" not found')
        wanted_rv = (config.get("metadata") or {}).get("resourceVersion")
        if (
            current is not None
            and wanted_rv
            and wanted_rv != current["metadata"]["resourceVersion"]
        ):
            raise conflict(rt, name)
        config = {**config, "metadata": {**(config.get("metadata") or {}), "name": name}}
        result = fieldmanager.apply(
            current,
            config,
            manager=manager,
            force=force,
            api_version=rt.api_version,
            subresource=subresource,
            now=self.now(),
            schema=self.schema_node(rt),
            has_status=rt.has_status,
        )
        managed = result["metadata"].get("managedFields") or []
        if current is None:
            if rt.namespaced:
                result["metadata"]["namespace"] = ns
            made = self._create(rt, result, dry_run=dry_run, managed=managed, mutate=mutate)
            self._log("create", rt, ns, name)
            return made
        result["metadata"]["resourceVersion"] = ""
        return self.replace_in(
            rt,
            ns,
            name,
            result,
            subresource=subresource,
            dry_run=dry_run,
            verb="patch",
            managed=managed,
            mutate=mutate,
        )

    @staticmethod
    def schema_node(rt: ResourceType) -> SchemaNode | None:
        """The schema patches and field management read for a type."""
        if rt.schema is not None:
            return crd_node(rt.schema)
        return kind_node(rt.group, rt.version, rt.kind)

    def _track(
        self,
        rt: ResourceType,
        old: KubeObject | None,
        new: KubeObject,
        manager: str,
        subresource: str,
    ) -> None:
        """Record ``manager`` as the owner of what this write set (``track_fields``)."""
        if not self.track_fields or not manager:
            return
        managed = fieldmanager.record_update(
            old,
            new,
            manager=manager,
            api_version=rt.api_version,
            subresource=subresource,
            now=self.now(),
            schema=self.schema_node(rt),
            has_status=rt.has_status,
        )
        meta = new["metadata"].copy()
        if managed:
            meta["managedFields"] = managed
        else:
            meta.pop("managedFields", None)
        new["metadata"] = meta

    def delete_in(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        propagation: str | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> KubeObject:
        """Delete: objects with finalizers only get a deletionTimestamp; dependents follow
        per ``propagation`` (Background by default, Foreground, Orphan)."""
        with self._lock:
            ns = self.scope(rt, namespace)
            obj = self._existing(rt, ns, name)
            for key in _PRECONDITIONS:
                wanted = (preconditions or {}).get(key)
                if wanted and wanted != obj["metadata"].get(key):
                    raise ConflictError(
                        f"Precondition failed: {key[0].upper() + key[1:]} in precondition: "
                        f"{wanted}, {key} in object meta: {obj['metadata'].get(key)}"
                    )
            self._judge("DELETE", rt, ns, name, None, obj, dry_run=dry_run)
            self._log("delete", rt, ns, name)
            if dry_run:
                return obj
            return self.gc.delete(rt, ns, obj, propagation or "Background")

    # -- the kind-based API the engine uses (copies in, shared objects out) -------------
    def create(self, obj: KubeObject, *, record: bool = True) -> KubeObject:
        with self._lock:
            rt = self.type_for(obj.get("apiVersion", ""), obj.get("kind", ""))
            made = self._create(rt, clone(obj))
            if record:
                self._log(
                    "create",
                    rt,
                    str(made["metadata"].get("namespace", "")),
                    made["metadata"]["name"],
                )
            return made

    def get(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        record: bool = True,
    ) -> KubeObject:
        with self._lock:
            rt = self.type_for(api_version, kind)
            ns = self.scope(rt, namespace)
            if record:
                self._log("get", rt, ns, name)
            return _as_version(self._existing(rt, ns, name), rt)

    def find(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> KubeObject | None:
        """``get`` that answers None instead of NotFoundError (recorded as a get); without
        raising one: engines look an object up before every create."""
        with self._lock:
            try:
                rt = self.type_for(api_version, kind)
            except NotFoundError:
                return None
            ns = self.scope(rt, namespace)
            self._log("get", rt, ns, name)
            found = self.bucket(rt).get((ns, name))
            return None if found is None else _as_version(found, rt)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | Mapping[str, object] | None = None,
        field_selector: str | None = None,
        record: bool = True,
    ) -> ObjList:
        with self._lock:
            rt = self.type_for(api_version, kind)
            return self.list_type(
                rt,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                record=record,
            )

    def list_type(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str | Mapping[str, object] | None = None,
        field_selector: str | None = None,
        record: bool = True,
    ) -> ObjList:
        with self._lock:
            if record:
                self._log("list", rt, namespace or "", "")
            return self.select(
                rt, namespace, label_selector=label_selector, field_selector=field_selector
            )

    def update(self, obj: KubeObject, *, subresource: str = "", verb: str = "update") -> KubeObject:
        """Replace an object (or, with ``subresource="status"``, only its status)."""
        rt = self.type_for(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.get("metadata") or {}
        return self.replace_in(
            rt,
            meta.get("namespace"),
            str(meta.get("name", "")),
            clone(obj),
            subresource=subresource,
            verb=verb,
        )

    def update_status(self, obj: KubeObject) -> KubeObject:
        return self.update(obj, subresource="status")

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Json,
        namespace: str | None = None,
        *,
        patch_type: str = "merge",
        subresource: str = "",
    ) -> KubeObject:
        rt = self.type_for(api_version, kind)
        return self.patch_in(rt, namespace, name, patch, patch_type, subresource=subresource)

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        record: bool = True,
        propagation: str | None = None,
    ) -> KubeObject:
        with self._lock:
            rt = self.type_for(api_version, kind)
            ns = self.scope(rt, namespace)
            obj = self._existing(rt, ns, name)
            self._judge("DELETE", rt, ns, name, None, obj)
            if record:
                self._log("delete", rt, ns, name)
            return self.gc.delete(rt, ns, obj, propagation or "Background")

    # -- watch (threads) --------------------------------------------------------------
    def events_since(
        self,
        resource_version: int,
        group: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
    ) -> EventList:
        """Recorded events after a version (``record`` mode), optionally filtered."""
        with self._lock:
            return [
                e
                for e in self.events
                if e.resource_version > resource_version
                and (group is None or e.group == group)
                and (resource is None or e.resource == resource)
                and (namespace is None or e.namespace == namespace)
            ]

    def wait_for_events(
        self, resource_version: int, timeout: float, **filters: str | None
    ) -> EventList:
        """Block until there are events after ``resource_version`` (or the timeout)."""
        with self.changed:
            self.changed.wait_for(
                lambda: bool(self.events_since(resource_version, **filters)), timeout
            )
            return self.events_since(resource_version, **filters)

    def close(self) -> None:
        """Flush and close the journal (a snapshot makes the next start fast)."""
        with self._lock:
            if self._journal is not None:
                self._journal.compact(self._rv, self._all_objects())
                self._journal.close()


def _position(obj: KubeObject) -> tuple[str, str]:
    meta = obj["metadata"]
    return (str(meta.get("namespace", "")), str(meta["name"]))


def _matcher(
    label_selector: str | Mapping[str, object] | None, field_selector: str | None
) -> Callable[[KubeObject], bool]:
    labels = label_matcher(label_selector)
    fields = field_matcher(field_selector)
    return lambda obj: labels(obj["metadata"].get("labels") or {}) and fields(obj)

"""The object store: API-server semantics over plain dicts.

Objects go in and come out as deep copies, so callers can never mutate stored state. Every
call is recorded as an :class:`Operation` and every change emits a :class:`WatchEvent`; a
lock makes the store safe to serve from several threads.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orkestra.cluster import openapi
from orkestra.cluster.data import clone
from orkestra.cluster.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    InvalidError,
    NotFoundError,
)
from orkestra.cluster.patch import json_patch, merge_patch
from orkestra.cluster.resources import BUILTIN_TYPES, ResourceType, crd_types, plural_of
from orkestra.cluster.selectors import field_matcher, label_matcher
from orkestra.units import format_timestamp

Obj = dict[str, Any]
ObjList = list[Obj]
EventList = list["WatchEvent"]
Clock = Callable[[], datetime]
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_NAMED = {"namespaces", "services"}
_SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation",
                    "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields")
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class Operation:
    """One API call: verb (create, update, patch, delete, get, list), the resource (plural,
    with ``/status`` for the subresource), namespace, name and the resourceVersion after."""

    seq: int
    verb: str
    group: str
    resource: str
    namespace: str
    name: str
    resource_version: int


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    group: str
    resource: str
    object: Obj
    resource_version: int


def _now(clock: Clock) -> str:
    return format_timestamp(clock())


def _body(obj: Obj) -> Obj:
    """The parts of an object that count for ``generation``: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class MemoryCluster:
    """An in-memory Kubernetes API. ``lenient_kinds`` accepts objects of kinds nobody
    registered (as a fake dynamic client does) instead of failing like a real server."""

    def __init__(self, *, clock: Clock | None = None, lenient_kinds: bool = False,
                 service_cidr_base: str = "10.96.0.") -> None:
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.lenient_kinds = lenient_kinds
        self._types: dict[tuple[str, str], ResourceType] = {}
        self._kinds: dict[tuple[str, str], ResourceType] = {}
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}
        self._rv = 0
        self._seq = itertools.count(1)
        self._ips = itertools.count(10)
        self._service_base = service_cidr_base
        self.operations: list[Operation] = []
        self.events: list[WatchEvent] = []
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)
        for rt in BUILTIN_TYPES:
            self.register_type(rt)
        with self._lock:
            for name in DEFAULT_NAMESPACES:
                self._store(self._types[("", "namespaces")],
                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                             "status": {"phase": "Active"}}, record=False)

    # -- types ------------------------------------------------------------------------
    def register_type(self, rt: ResourceType) -> None:
        with self._lock:
            self._types[rt.key] = rt
            self._kinds[(rt.api_version, rt.kind)] = rt
            self._objects.setdefault(rt.key, {})

    def register_crd(self, crd: Obj) -> list[ResourceType]:
        """Make a CRD's kind known (what creating the CRD object does)."""
        types = crd_types(crd)
        for rt in types:
            self.register_type(rt)
        return types

    def types(self) -> list[ResourceType]:
        return list(self._types.values())

    def type_for(self, api_version: str, kind: str) -> ResourceType:
        rt = self._kinds.get((api_version, kind))
        if rt is not None:
            return rt
        if self.lenient_kinds and kind:
            group, _, version = api_version.rpartition("/")
            guessed = ResourceType(group, version or api_version, kind, plural_of(kind))
            self.register_type(guessed)
            return guessed
        raise NotFoundError(f'no matches for kind "{kind}" in version "{api_version}"')

    # -- bookkeeping ------------------------------------------------------------------
    def _record(self, verb: str, rt: ResourceType, namespace: str, name: str,
                sub: str = "") -> None:
        resource = rt.plural + (f"/{sub}" if sub else "")
        self.operations.append(Operation(next(self._seq), verb, rt.group, resource, namespace,
                                         name, self._rv))

    def _emit(self, kind: str, rt: ResourceType, obj: Obj) -> None:
        self.events.append(WatchEvent(kind, rt.group, rt.plural, clone(obj), self._rv))
        self.changed.notify_all()

    def _bump(self, obj: Obj) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)

    def _bucket(self, rt: ResourceType) -> dict[tuple[str, str], Obj]:
        return self._objects.setdefault(rt.key, {})

    @staticmethod
    def _namespace(rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "default") if rt.namespaced else ""

    def _existing(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        found = self._bucket(rt).get((namespace, name))
        if found is None:
            raise NotFoundError(f'{rt.qualified} "{name}" not found')
        return found

    # -- admission (the server's own checks and defaulting) ---------------------------
    def _admit(self, rt: ResourceType, obj: Obj) -> None:
        meta = obj.setdefault("metadata", {})
        name = meta.get("name", "")
        pattern = _DNS_LABEL if rt.plural in _LABEL_NAMED else _DNS_SUBDOMAIN
        limit = 63 if rt.plural in _LABEL_NAMED else 253
        if not isinstance(name, str) or not name or len(name) > limit or \
                not pattern.fullmatch(name):
            raise InvalidError(f'{rt.kind} "{name}" is invalid: metadata.name: Invalid value: '
                          f'"{name}": a lowercase RFC 1123 '
                          f'{"label" if limit == 63 else "subdomain"} must consist of lower '
                          "case alphanumeric characters, '-' or '.', and must start and end "
                          "with an alphanumeric character")
        for key in ("labels", "annotations"):
            for k, v in (meta.get(key) or {}).items():
                if not isinstance(v, str):
                    raise InvalidError(f'{rt.kind} "{name}" is invalid: metadata.{key}.{k}: '
                                  f"Invalid value: {v!r}: must be a string")
        if rt.schema is not None:
            openapi.apply_defaults(obj, rt.schema)
            openapi.prune(obj, rt.schema, root=True)
            errors = openapi.validate(_body_and_status(obj), rt.schema)
            if errors:
                raise InvalidError(f'{rt.kind}.{rt.group} "{name}" is invalid: '
                                   + ", ".join(errors), details=errors)
        if rt.key == ("", "services"):
            spec = obj.setdefault("spec", {})
            if "clusterIP" not in spec:
                spec["clusterIP"] = f"{self._service_base}{next(self._ips)}"
            spec.setdefault("type", "ClusterIP")

    # -- CRUD -------------------------------------------------------------------------
    def create(self, obj: Obj, *, record: bool = True) -> Obj:
        with self._lock:
            rt = self.type_for(obj.get("apiVersion", ""), obj.get("kind", ""))
            return self._store(rt, clone(obj), record=record)

    def _store(self, rt: ResourceType, obj: Obj, *, record: bool) -> Obj:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        namespace = self._namespace(rt, meta.get("namespace"))
        if rt.namespaced:
            meta["namespace"] = namespace
            if ("", namespace) not in self._bucket(self._types[("", "namespaces")]):
                raise NotFoundError(f'namespaces "{namespace}" not found')
        else:
            meta.pop("namespace", None)
        for field in _SERVER_METADATA:
            meta.pop(field, None)
        if rt.has_status and rt.key != ("", "namespaces"):
            obj.pop("status", None)
        self._admit(rt, obj)
        key = (namespace, meta["name"])
        if key in self._bucket(rt):
            raise AlreadyExistsError(f'{rt.qualified} "{meta["name"]}" already exists')
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = _now(self.clock)
        meta["generation"] = 1
        self._bump(obj)
        self._bucket(rt)[key] = obj
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.register_crd(obj)
        if record:
            self._record("create", rt, namespace, meta["name"])
        self._emit("ADDED", rt, obj)
        return clone(obj)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None,
            *, record: bool = True) -> Obj:
        with self._lock:
            rt = self.type_for(api_version, kind)
            ns = self._namespace(rt, namespace)
            if record:
                self._record("get", rt, ns, name)
            return clone(self._existing(rt, ns, name))

    def find(self, api_version: str, kind: str, name: str, namespace: str | None = None
             ) -> Obj | None:
        """``get`` that answers None instead of NotFoundError (recorded as a get)."""
        try:
            return self.get(api_version, kind, name, namespace)
        except NotFoundError:
            return None

    def list(self, api_version: str, kind: str, namespace: str | None = None, *,
             label_selector: str | dict[str, Any] | None = None,
             field_selector: str | None = None, record: bool = True) -> ObjList:
        with self._lock:
            rt = self.type_for(api_version, kind)
            return self.list_type(rt, namespace, label_selector=label_selector,
                                  field_selector=field_selector, record=record)

    def list_type(self, rt: ResourceType, namespace: str | None = None, *,
                  label_selector: str | dict[str, Any] | None = None,
                  field_selector: str | None = None, record: bool = True) -> ObjList:
        with self._lock:
            labels = label_matcher(label_selector)
            fields = field_matcher(field_selector)
            if record:
                self._record("list", rt, namespace or "", "")
            items = [obj for (ns, _), obj in sorted(self._bucket(rt).items())
                     if (namespace is None or not rt.namespaced or ns == namespace)
                     and labels(obj["metadata"].get("labels") or {}) and fields(obj)]
            return clone(items)

    def update(self, obj: Obj, *, subresource: str = "", verb: str = "update") -> Obj:
        """Replace an object (or, with ``subresource="status"``, only its status)."""
        with self._lock:
            rt = self.type_for(obj.get("apiVersion", ""), obj.get("kind", ""))
            meta = obj.get("metadata") or {}
            ns = self._namespace(rt, meta.get("namespace"))
            current = self._existing(rt, ns, meta.get("name", ""))
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise ConflictError(f'Operation cannot be fulfilled on {rt.plural}'
                               f'{"." + rt.group if rt.group else ""} "{meta.get("name")}": '
                               "the object has been modified; please apply your changes to the "
                               "latest version and try again")
            new = self._next_version(rt, current, clone(obj), subresource)
            self._record(verb, rt, ns, new["metadata"]["name"], subresource)
            if new == current:
                return clone(current)
            self._bump(new)
            if self._finalized(rt, ns, new):
                return clone(new)
            self._bucket(rt)[(ns, new["metadata"]["name"])] = new
            self._emit("MODIFIED", rt, new)
            return clone(new)

    def _next_version(self, rt: ResourceType, current: Obj, incoming: Obj,
                      subresource: str) -> Obj:
        if subresource == "status":
            new = clone(current)
            if "status" in incoming:
                new["status"] = incoming["status"]
            else:
                new.pop("status", None)
            if rt.schema is not None:
                errors = openapi.validate(_body_and_status(new), rt.schema)
                if errors:
                    raise InvalidError(f'{rt.kind} "{new["metadata"]["name"]}" is invalid: '
                                  + ", ".join(errors), details=errors)
            return new
        if subresource:
            raise BadRequestError(f"unknown subresource {subresource!r}")
        meta = incoming.setdefault("metadata", {})
        for key in _SERVER_METADATA:
            if key in current["metadata"]:
                meta[key] = current["metadata"][key]
            else:
                meta.pop(key, None)
        meta["namespace"] = current["metadata"].get("namespace")
        if meta["namespace"] is None:
            meta.pop("namespace")
        if rt.has_status:
            if "status" in current:
                incoming["status"] = current["status"]
            else:
                incoming.pop("status", None)
        if current["metadata"].get("deletionTimestamp") and len(
                meta.get("finalizers") or []) > len(current["metadata"].get("finalizers") or []):
            raise InvalidError(f'{rt.kind} "{meta.get("name")}" is invalid: metadata.finalizers: '
                          "Forbidden: no new finalizers can be added if the object is being "
                          "deleted")
        self._admit(rt, incoming)
        if _body(incoming) != _body(current):
            meta["generation"] = current["metadata"].get("generation", 1) + 1
        return incoming

    def update_status(self, obj: Obj) -> Obj:
        return self.update(obj, subresource="status")

    def patch(self, api_version: str, kind: str, name: str, patch: Any,
              namespace: str | None = None, *, patch_type: str = "merge",
              subresource: str = "") -> Obj:
        with self._lock:
            rt = self.type_for(api_version, kind)
            ns = self._namespace(rt, namespace)
            current = clone(self._existing(rt, ns, name))
            if patch_type == "merge":
                patched = merge_patch(current, patch)
            elif patch_type == "json":
                patched = json_patch(current, patch)
            else:
                raise BadRequestError(f"unsupported patch type {patch_type!r}")
            if not isinstance(patched, dict):
                raise BadRequestError("the patch must produce an object")
            patched.setdefault("metadata", {})["resourceVersion"] = \
                current["metadata"]["resourceVersion"]
            return self.update(patched, subresource=subresource, verb="patch")

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
               *, record: bool = True) -> Obj:
        """Delete: objects with finalizers only get a deletionTimestamp; owned objects and a
        namespace's content follow (background cascade)."""
        with self._lock:
            rt = self.type_for(api_version, kind)
            ns = self._namespace(rt, namespace)
            obj = self._existing(rt, ns, name)
            if record:
                self._record("delete", rt, ns, name)
            return clone(self._delete(rt, ns, obj))

    def _delete(self, rt: ResourceType, ns: str, obj: Obj) -> Obj:
        meta = obj["metadata"]
        if meta.get("finalizers"):
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = _now(self.clock)
                meta["deletionGracePeriodSeconds"] = 0
                self._bump(obj)
                self._emit("MODIFIED", rt, obj)
            return obj
        self._remove(rt, ns, obj)
        return obj

    def _finalized(self, rt: ResourceType, ns: str, obj: Obj) -> bool:
        """A deleting object whose last finalizer went away is removed now."""
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            self._remove(rt, ns, obj)
            return True
        return False

    def _remove(self, rt: ResourceType, ns: str, obj: Obj) -> None:
        self._bucket(rt).pop((ns, obj["metadata"]["name"]), None)
        self._bump(obj)
        self._emit("DELETED", rt, obj)
        uid = obj["metadata"].get("uid")
        for other_rt in list(self._types.values()):
            for (other_ns, _), other in list(self._bucket(other_rt).items()):
                owned = any(ref.get("uid") == uid
                            for ref in other["metadata"].get("ownerReferences") or [])
                in_namespace = rt.key == ("", "namespaces") and other_ns == obj["metadata"][
                    "name"] and other_rt.namespaced
                if owned or in_namespace:
                    self._delete(other_rt, other_ns, other)

    # -- watch ------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def events_since(self, resource_version: int, group: str | None = None,
                     resource: str | None = None, namespace: str | None = None
                     ) -> EventList:
        with self._lock:
            return [e for e in self.events if e.resource_version > resource_version
                    and (group is None or e.group == group)
                    and (resource is None or e.resource == resource)
                    and (namespace is None or
                         e.object["metadata"].get("namespace", "") == namespace)]

    def wait_for_events(self, resource_version: int, timeout: float, **filters: Any
                        ) -> EventList:
        """Block until there are events after ``resource_version`` (or the timeout)."""
        with self.changed:
            self.changed.wait_for(
                lambda: bool(self.events_since(resource_version, **filters)), timeout)
            return self.events_since(resource_version, **filters)


def _body_and_status(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}


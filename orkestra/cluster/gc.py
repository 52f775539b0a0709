"""Deletion: finalizers, garbage collection and the terminating namespaces and CRDs.

An object with finalizers is only marked (``deletionTimestamp``) and goes when its last
finalizer is removed. When an object goes, its dependents (objects whose ownerReferences
name it) are deleted too, unless another owner they name still exists, in which case only
the dangling reference is dropped. ``Foreground`` keeps the owner (with the
``foregroundDeletion`` finalizer) until its dependents are gone; ``Orphan`` strips the
references and leaves the dependents. A deleted namespace is ``Terminating`` until its
content is gone; a deleted CRD takes its custom resources with it. The real garbage
collector works asynchronously; here it completes within the delete call, which is one of
the orders a real cluster may show and keeps simulate deterministic.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from orkestra.cluster.admission import CRDS, NAMESPACES
from orkestra.cluster.data import clone, maps
from orkestra.cluster.resources import ResourceType, crd_spec
from orkestra.kubeobjects import JsonDict, KubeObject, ObjectMeta

if TYPE_CHECKING:
    from orkestra.cluster.store import MemoryCluster

Location = tuple[tuple[str, str], str, str]  # (group, plural), namespace, name
FOREGROUND = "foregroundDeletion"


def _uid(obj: KubeObject) -> str:
    return str(obj["metadata"].get("uid", ""))


def _owner_uids(obj: KubeObject | None) -> set[str]:
    if obj is None:
        return set()
    return {str(r.get("uid")) for r in obj["metadata"].get("ownerReferences") or []}


def _crd_key(crd: KubeObject) -> tuple[str, str]:
    spec = crd_spec(crd)
    return (str(spec.get("group", "")), str((spec.get("names") or {}).get("plural", "")))


def _location(rt: ResourceType, obj: KubeObject) -> Location:
    meta = obj["metadata"]
    return (rt.key, str(meta.get("namespace", "")), str(meta["name"]))


class Collector:
    """The store's deletion logic and the indexes it needs (dependents by owner uid,
    object count by namespace)."""

    def __init__(self, store: MemoryCluster) -> None:
        self.store = store
        self._dependents: dict[str, set[Location]] = {}
        self._by_uid: dict[str, Location] = {}
        self._in_namespace: Counter[str] = Counter()

    # -- indexes ----------------------------------------------------------------------
    def index(self, rt: ResourceType, old: KubeObject | None, new: KubeObject | None) -> None:
        """Keep the indexes right when ``old`` is replaced by ``new`` (either may be None)."""
        if old is not None and new is not None:
            refs = old["metadata"].get("ownerReferences")
            if refs is new["metadata"].get("ownerReferences"):  # kept as it was: most writes
                return
        before, after = _owner_uids(old), _owner_uids(new)
        if old is not None and new is None:
            self._by_uid.pop(_uid(old), None)
            if rt.namespaced:
                self._in_namespace[str(old["metadata"].get("namespace", ""))] -= 1
        if new is not None and old is None:
            self._by_uid[_uid(new)] = _location(rt, new)
            if rt.namespaced:
                self._in_namespace[str(new["metadata"].get("namespace", ""))] += 1
        if before == after:
            return
        reference = old if old is not None else new
        assert reference is not None
        location = _location(rt, reference)
        for uid in before - after:
            self._dependents.get(uid, set()).discard(location)
        for uid in after - before:
            self._dependents.setdefault(uid, set()).add(location)

    def releasable(self, rt: ResourceType, obj: KubeObject) -> bool:
        """Whether a deleting object without finalizers can go now (a namespace waits for
        its content, a CRD for its custom resources)."""
        if rt.key == NAMESPACES:
            return self._in_namespace[str(obj["metadata"]["name"])] <= 0
        if rt.key == CRDS:
            served = self.store._types.get(_crd_key(obj))
            return served is None or not self.store.bucket(served)
        return True

    def _resolve(self, location: Location) -> tuple[ResourceType, KubeObject] | None:
        key, namespace, name = location
        rt = self.store._types.get(key)
        if rt is None:
            return None
        obj = self.store.bucket(rt).get((namespace, name))
        return None if obj is None else (rt, obj)

    def dependents(self, uid: str) -> list[tuple[ResourceType, KubeObject]]:
        found = [self._resolve(loc) for loc in sorted(self._dependents.get(uid, ()))]
        return [f for f in found if f is not None]

    # -- deleting ---------------------------------------------------------------------
    def delete(self, rt: ResourceType, ns: str, obj: KubeObject, propagation: str) -> KubeObject:
        if rt.key == NAMESPACES:
            return self._terminate_namespace(rt, obj)
        if rt.key == CRDS:
            return self._terminate_crd(rt, obj)
        if propagation == "Orphan":
            self._orphan(_uid(obj))
        finalizers = list(obj["metadata"].get("finalizers") or [])
        foreground = propagation == "Foreground" and bool(self.dependents(_uid(obj)))
        if foreground and FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        if not finalizers:
            return self.remove(rt, ns, obj)
        marked = self._mark(rt, obj, finalizers)
        if foreground:
            for dep_rt, dep in self.dependents(_uid(obj)):
                if not dep["metadata"].get("deletionTimestamp"):
                    self.delete(
                        dep_rt, str(dep["metadata"].get("namespace", "")), dep, "Foreground"
                    )
            return self._check_foreground(_uid(obj)) or marked
        return marked

    def _mark(
        self,
        rt: ResourceType,
        obj: KubeObject,
        finalizers: list[str],
        status: JsonDict | None = None,
    ) -> KubeObject:
        """Set the deletionTimestamp (once) and the finalizers; store the new version."""
        meta = obj["metadata"].copy()
        first = not meta.get("deletionTimestamp")
        if not first and meta.get("finalizers") == finalizers and status is None:
            return obj
        if first:
            meta["deletionTimestamp"] = self.store.now()
            meta["deletionGracePeriodSeconds"] = 0
            if "generation" in meta:
                meta["generation"] = int(meta["generation"]) + 1
        if finalizers:
            meta["finalizers"] = finalizers
        else:
            meta.pop("finalizers", None)
        new: KubeObject = {**obj, "metadata": meta}
        if status is not None:
            new["status"] = status
        stored = self.store._versioned(new)
        self.store._put(rt, stored)
        self.store._emit("MODIFIED", rt, stored, obj)
        return stored

    def remove(self, rt: ResourceType, ns: str, obj: KubeObject) -> KubeObject:
        """The object goes; its dependents and anything waiting for it follow."""
        gone = self.store._versioned(obj)
        self.store._drop(rt, obj)
        self.store._emit("DELETED", rt, gone, obj)
        uid = _uid(obj)
        for dep_rt, dep in self.dependents(uid):
            self._collect(dep_rt, dep, uid)
        self._dependents.pop(uid, None)
        if rt.key == CRDS:
            self.store.unregister_crd(obj)
        self._after_removal(rt, obj)
        return gone

    def _collect(self, rt: ResourceType, dep: KubeObject, owner_uid: str) -> None:
        """A dependent of a removed owner: delete it, or drop the dangling reference when
        another owner still exists."""
        refs = dep["metadata"].get("ownerReferences") or []
        others = [r for r in refs if r.get("uid") != owner_uid]
        ns = str(dep["metadata"].get("namespace", ""))
        if any(r.get("uid") in self._by_uid for r in others):
            meta: ObjectMeta = {**dep["metadata"], "ownerReferences": others}
            stored = self.store._versioned({**dep, "metadata": meta})
            self.store._put(rt, stored)
            self.store._emit("MODIFIED", rt, stored, dep)
        elif not dep["metadata"].get("deletionTimestamp"):
            self.delete(rt, ns, dep, "Background")

    def _orphan(self, uid: str) -> None:
        for rt, dep in self.dependents(uid):
            refs = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            meta: ObjectMeta = {**dep["metadata"], "ownerReferences": refs}
            if not refs:
                meta.pop("ownerReferences")
            stored = self.store._versioned({**dep, "metadata": meta})
            self.store._put(rt, stored)
            self.store._emit("MODIFIED", rt, stored, dep)

    def _after_removal(self, rt: ResourceType, obj: KubeObject) -> None:
        for owner in _owner_uids(obj):
            self._check_foreground(owner)
        if rt.namespaced:
            self._finish_namespace(str(obj["metadata"].get("namespace", "")))
        crd_name = f"{rt.plural}.{rt.group}"
        crds = self.store._types.get(CRDS)
        if rt.group and crds is not None:
            crd = self.store.bucket(crds).get(("", crd_name))
            if crd is not None and crd["metadata"].get("deletionTimestamp"):
                self._finish_crd(crds, crd)

    def _check_foreground(self, uid: str) -> KubeObject | None:
        """Release an owner in foreground deletion once no dependent blocks it."""
        found = self._resolve(self._by_uid[uid]) if uid in self._by_uid else None
        if found is None:
            return None
        rt, owner = found
        if FOREGROUND not in (owner["metadata"].get("finalizers") or []):
            return None
        blocking = [
            d
            for _, d in self.dependents(uid)
            if any(
                r.get("uid") == uid and r.get("blockOwnerDeletion")
                for r in d["metadata"].get("ownerReferences") or []
            )
        ]
        if blocking:
            return None
        rest = [f for f in owner["metadata"]["finalizers"] if f != FOREGROUND]
        ns = str(owner["metadata"].get("namespace", ""))
        if rest:
            return self._mark(rt, owner, rest)
        return self.remove(rt, ns, owner)

    # -- namespaces and CRDs ----------------------------------------------------------
    def _terminate_namespace(self, rt: ResourceType, ns_obj: KubeObject) -> KubeObject:
        name = str(ns_obj["metadata"]["name"])
        status = {**(ns_obj.get("status") or {}), "phase": "Terminating"}
        marked = self._mark(
            rt,
            ns_obj,
            list(ns_obj["metadata"].get("finalizers") or []),
            status if ns_obj.get("status", {}).get("phase") != "Terminating" else None,
        )
        for other in list(self.store._types.values()):
            if not other.namespaced:
                continue
            for (ns, _), obj in list(self.store.bucket(other).items()):
                if ns == name and not obj["metadata"].get("deletionTimestamp"):
                    self.delete(other, ns, obj, "Background")
        return self._finish_namespace(name) or marked

    def _finish_namespace(self, name: str) -> KubeObject | None:
        rt = self.store._types[NAMESPACES]
        ns_obj = self.store.bucket(rt).get(("", name))
        if ns_obj is None or not ns_obj["metadata"].get("deletionTimestamp"):
            return None
        if ns_obj["metadata"].get("finalizers") or not self.releasable(rt, ns_obj):
            return None
        return self.remove(rt, "", ns_obj)

    def _terminate_crd(self, rt: ResourceType, crd: KubeObject) -> KubeObject:
        status = clone(crd.get("status") or {})
        conditions = [c for c in maps(status.get("conditions")) if c.get("type") != "Terminating"]
        conditions.append(
            {
                "type": "Terminating",
                "status": "True",
                "reason": "InstanceDeletionInProgress",
                "message": "CustomResource deletion is in progress",
                "lastTransitionTime": self.store.now(),
            }
        )
        status["conditions"] = conditions
        marked = self._mark(rt, crd, list(crd["metadata"].get("finalizers") or []), status)
        served = self.store._types.get(_crd_key(crd))
        if served is not None:
            for (ns, _), obj in list(self.store.bucket(served).items()):
                if not obj["metadata"].get("deletionTimestamp"):
                    self.delete(served, ns, obj, "Background")
        return self._finish_crd(rt, marked) or marked

    def _finish_crd(self, rt: ResourceType, crd: KubeObject) -> KubeObject | None:
        if crd["metadata"].get("finalizers") or not self.releasable(rt, crd):
            return None
        return self.remove(rt, "", crd)

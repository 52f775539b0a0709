"""``observe.watch`` entries: other kinds whose events enqueue the CRs of a CRD.

Each entry is watched by one informer for its kind: the shared one when it already covers
the entry's namespace, else one for that namespace alone (see
:meth:`~orkestra.runtime.informer.Informers.watching`). An event counts when its kind of
change is in ``on`` (ADDED is ``create``, MODIFIED ``update``, DELETED ``delete``) and, when
the entry names one, it is that object (and namespace); events from the informer's first
list are not events. The CR keys it enqueues are resolved in upstream's order, the first
that applies winning (:meth:`WatchEntry.keys`):

1. ``keyFrom.label``: the label's value on the watched object, ``namespace/name`` or
   ``name`` (a bare name is in the watched object's namespace for a namespaced CRD); a
   missing label falls through;
2. ``keyFrom.name`` (+ ``namespace``, by default the watched object's for a namespaced CRD);
3. an ownerReference to the CRD's kind (same API group): that owner in the watched object's
   namespace;
4. every CR of the CRD in the cache (broadcast).

``index`` entries are accepted and build nothing: no reader of the caches looks objects up
by them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orkestra.kubeobjects import KubeObject
from orkestra.model import shapes
from orkestra.runtime.gates import Gate
from orkestra.runtime.store import Change, Key

CHANGES = {"ADDED": "create", "MODIFIED": "update", "DELETED": "delete"}


@dataclass(frozen=True)
class Primary:
    """The CRD whose CRs a watch enqueues."""

    group: str
    kind: str
    namespaced: bool
    keys: Callable[[], list[Key]]  # every CR in the cache


@dataclass(frozen=True, kw_only=True)
class WatchEntry:
    api_version: str
    kind: str
    namespace: str | None = None
    name: str | None = None
    on: frozenset[str] = frozenset(CHANGES.values())
    label: str | None = None
    key_name: str | None = None
    key_namespace: str | None = None
    gate: Gate | None = None

    @classmethod
    def of(cls, number: int, spec: shapes.WatchEntry) -> WatchEntry:
        key_from = spec.get("keyFrom") or {}
        return cls(
            api_version=str(spec["apiVersion"]),
            kind=str(spec["kind"]),
            namespace=spec.get("namespace") or None,
            name=spec.get("name") or None,
            on=frozenset(spec.get("on") or CHANGES.values()),
            label=key_from.get("label") or None,
            key_name=key_from.get("name") or None,
            key_namespace=key_from.get("namespace") or None,
            gate=Gate.of(f"observe.watch[{number}].enqueueGate", spec.get("enqueueGate")),
        )

    @property
    def sentinels(self) -> tuple[str, ...]:
        """The sentinels computed for the watched object's updates."""
        return self.gate.sentinels if self.gate is not None else ()

    def describe(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.kind} {self.api_version}{where}"

    def matches(self, change: Change) -> bool:
        """Whether this change of a watched object is an event of this entry."""
        meta = change.obj.get("metadata") or {}
        return (
            CHANGES.get(change.type) in self.on
            and (self.name is None or meta.get("name") == self.name)
            and (self.namespace is None or (meta.get("namespace") or "") == self.namespace)
        )

    def keys(self, obj: KubeObject, primary: Primary) -> list[Key]:
        """The CR keys an event of ``obj`` enqueues, in upstream's resolution order."""
        meta = obj.get("metadata") or {}
        here = str(meta.get("namespace") or "") if primary.namespaced else ""
        value = (meta.get("labels") or {}).get(self.label) if self.label else None
        if value:
            namespace, _, name = str(value).rpartition("/")
            return [(namespace or here, name)]
        if self.key_name:
            namespace = (self.key_namespace or here) if primary.namespaced else ""
            return [(namespace, self.key_name)]
        for ref in meta.get("ownerReferences") or []:
            if (
                ref.get("kind") == primary.kind
                and str(ref.get("apiVersion", "")).rpartition("/")[0] == primary.group
            ):
                return [(here, str(ref.get("name")))]
        return primary.keys()


def entries(entry: shapes.CrdEntry) -> list[WatchEntry]:
    """The watch entries of a composed CRD entry."""
    observe = (entry.get("operatorBox") or {}).get("observe") or {}
    return [WatchEntry.of(number, spec) for number, spec in enumerate(observe.get("watch") or [])]

"""The cluster a simulation reconciles against: the in-memory API server plus what the
engine asks a live cluster for that simulate has to answer itself.

- ``cross`` peers (:class:`~orkestra.engine.api.CrossReader`): the CRs of the target CRD
  held by the simulated cluster, which are the CR files' documents of its kind (as
  upstream's simulate); a target counts as run here when the katalog declares it
  (enabled), as it does for the runtime of that katalog. A target or katalog with
  ``crossAccess: false`` shows none.
- ``cross`` sources: simulate makes no network call. The simulate file's
  ``spec.cross.<as>`` stands for what the source answers; without it the source answers
  nothing (the entry reads as not found) and the run gets a note.
- A ``fromSecret``/``fromConfigMap`` copy whose source is missing from another namespace
  is skipped with a note (upstream's wording); put the source object in a CR file to copy
  it for real.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from orkestra.cluster import MemoryCluster
from orkestra.compose import Composed
from orkestra.engine.api import CopySource, PeerQuery, RemoteQuery
from orkestra.engine.cross import peer_matches, target_name
from orkestra.engine.reconcile import cr_type
from orkestra.kubeobjects import JsonObject, KubeObject
from orkestra.model.shapes import CrdEntry


class SimulatedCluster(MemoryCluster):
    """A :class:`MemoryCluster` that reads ``cross`` and decides missing copy sources."""

    def __init__(
        self, composed: Composed, stubs: Mapping[str, JsonObject], *, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(clock=clock, lenient_kinds=True)
        self.composed = composed
        self.stubs = stubs
        self.notes: list[str] = []  # of the run in progress, in order, each once

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def cross_peers(self, query: PeerQuery) -> list[KubeObject] | None:
        target = self._target(query)
        if target is None:
            return None
        api_version, kind = cr_type(target)
        if (
            target.get("crossAccess") is False
            or self.composed.top.get("crossAccess") is False
            or not kind
        ):
            return []
        return [
            o for o in self.list(api_version, kind, None, record=False) if peer_matches(o, query)
        ]

    def _target(self, query: PeerQuery) -> CrdEntry | None:
        crds = self.composed.enabled_crds
        name = target_name(query, {n: e.get("labelSelector") or {} for n, e in crds.items()})
        return None if name is None else crds.get(name)

    def cross_remote(self, query: RemoteQuery) -> JsonObject | None:
        stub = self.stubs.get(query.key)
        if stub is None:
            self.note(
                f'cross "{query.key}": {query.url} not called in simulate (no network) '
                f"and spec.cross.{query.key} gives no stub; it reads as not found"
            )
        return stub

    def skip_copy(self, source: CopySource) -> bool:
        self.note(
            f"{source.declaration.lower()}/{source.declared_name}: cross-namespace "
            "copy skipped in simulate — requires a live cluster"
        )
        return True

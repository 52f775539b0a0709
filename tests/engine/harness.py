"""Run the real reconciler against an in-memory cluster for a hand-written CRD entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from orkestra.cluster import MemoryCluster, ResourceType
from orkestra.engine.hooks import HookCall, HookOutcome, Hooks
from orkestra.engine.profiles import Profiles
from orkestra.engine.reconcile import CycleResult, Reconciler
from orkestra.template import Renderer, UserNote

API = {"group": "test.io", "version": "v1", "kind": "App", "plural": "apps"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingHooks:
    """Typed hooks that do nothing but record the callbacks each cycle asked for."""

    run_first: bool = False
    replaces_templates: bool = False
    needs_finalizer: bool = False
    ran: list[tuple[str, ...]] = field(default_factory=list)

    def kinds(self) -> list[tuple[str, str]]:
        return []

    def run(self, call: HookCall) -> HookOutcome:
        self.ran.append(call.phases)
        return HookOutcome()


class Harness:
    """A CR ``demo`` of kind App in namespace ``default``, reconciled on demand (``cluster``
    makes the cluster, for one with the engine's optional capabilities)."""

    def __init__(
        self,
        box: dict[str, Any],
        spec: dict[str, Any] | None = None,
        *,
        entry: dict[str, Any] | None = None,
        namespaced: bool = True,
        labels: dict[str, str] | None = None,
        notes: list[UserNote] | None = None,
        profiles: dict[str, Any] | None = None,
        finalizers: list[str] | None = None,
        hooks: Hooks | None = None,
        cluster: Callable[[Clock], MemoryCluster] | None = None,
    ) -> None:
        self.clock = Clock()
        self.cluster = (
            cluster(self.clock)
            if cluster is not None
            else MemoryCluster(clock=self.clock, lenient_kinds=True)
        )
        self.cluster.register_type(
            ResourceType(
                group="test.io", version="v1", kind="App", plural="apps", namespaced=namespaced
            )
        )
        self.namespace = "default" if namespaced else None
        meta: dict[str, Any] = {"name": "demo", "labels": labels or {}}
        if namespaced:
            meta["namespace"] = "default"
        self.cluster.create(
            {"apiVersion": "test.io/v1", "kind": "App", "metadata": meta, "spec": spec or {}},
            record=False,
        )
        full = {"apiTypes": API, "operatorBox": box, **(entry or {})}
        if not namespaced:
            full["namespaced"] = False
        self.reconciler = Reconciler(
            "app",
            full,
            cluster=self.cluster,
            renderer=Renderer(notes or []),
            profiles=Profiles(profiles),
            clock=self.clock,
            finalizers=finalizers,
            hooks=hooks,
        )
        self.results: list[CycleResult] = []

    def cycle(
        self, settle: Callable[[MemoryCluster], None] | None = None
    ) -> list[tuple[str, str, str]]:
        """One reconcile; returns its writes as (verb, resource, name)."""
        before = len(self.cluster.operations)
        self.results.append(self.reconciler.reconcile("demo", self.namespace))
        writes = [
            (o.verb, o.resource, o.name)
            for o in self.cluster.operations[before:]
            if o.verb in ("create", "update", "patch", "delete")
        ]
        if settle is not None:
            settle(self.cluster)
        return writes

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = "default"
    ) -> dict[str, Any] | None:
        return self.cluster.find(api_version, kind, name, namespace)

    def cr(self) -> dict[str, Any]:
        found = self.get("test.io/v1", "App", "demo", self.namespace)
        assert found is not None
        return found

    def patch_spec(self, **changes: Any) -> None:
        self.cluster.patch("test.io/v1", "App", "demo", {"spec": changes}, self.namespace)


def mark_ready(cluster: MemoryCluster) -> None:
    for kind in ("Deployment", "StatefulSet"):
        for obj in cluster.list("apps/v1", kind, None, record=False):
            replicas = obj["spec"].get("replicas", 1)
            cluster.update_status(
                {**obj, "status": {"replicas": replicas, "readyReplicas": replicas}}
            )

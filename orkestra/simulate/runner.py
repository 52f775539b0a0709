"""Run a plan: set up the in-memory cluster, reconcile cycle by cycle, record the ops.

One cycle is one reconcile of the CR under test. After each cycle the simulated controllers
act (``orkestra.cluster.kubelet``, shared with the embedded API server): workloads report all
replicas ready and Jobs complete, so status state machines can move on. The steady state is
the first cycle whose writes are empty or equal the previous cycle's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import ApiError
from orkestra.cluster.kubelet import settle_workloads
from orkestra.cluster.resources import ResourceType
from orkestra.compose import Composed, compose_file
from orkestra.compose.engines import Engines
from orkestra.engine.hooks import EventNote
from orkestra.errors import OrkError
from orkestra.model.source import SourceDoc, load_documents
from orkestra.simulate.plan import Plan

WRITES = ("create", "update", "patch", "delete")
Obj = dict[str, Any]


class SimulationError(OrkError):
    """The simulation could not run (no CR for the CRD, an invalid CR ...)."""


@dataclass(frozen=True)
class Op:
    cycle: int
    verb: str
    resource: str  # plural, or "status" for the CR's status
    name: str
    namespace: str

    @property
    def is_write(self) -> bool:
        return self.verb in WRITES


@dataclass
class Cycle:
    number: int
    ops: list[Op]
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    events: list[EventNote] = field(default_factory=list)  # the hooks' Events

    @property
    def writes(self) -> list[Op]:
        return [op for op in self.ops if op.is_write]


@dataclass
class Run:
    """One CRD's CR reconciled for the plan's cycles."""

    crd: str
    cr_name: str
    cr_namespace: str
    cycles: list[Cycle]
    seconds: float
    steady_at: int | None = None

    @property
    def ops(self) -> list[Op]:
        return [op for cycle in self.cycles for op in cycle.ops]

    @property
    def errors(self) -> list[Cycle]:
        return [c for c in self.cycles if c.error is not None]


def steady_cycle(cycles: list[Cycle]) -> int | None:
    previous: list[tuple[str, str, str]] | None = None
    for cycle in cycles:
        writes = [(op.verb, op.resource, op.name) for op in cycle.writes]
        if not writes or writes == previous:
            return cycle.number
        previous = writes
    return None


class VirtualClock:
    """Starts at the real time; each cycle moves it one second on."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += timedelta(seconds=1)


def cr_documents(paths: list[Path]) -> list[SourceDoc]:
    docs: list[SourceDoc] = []
    for path in paths:
        docs.extend(load_documents(path, display=path.name))
    return [d for d in docs if isinstance(d.data, dict) and d.data.get("kind")]


def _register(cluster: MemoryCluster, composed: Composed, crd_files: list[Path]) -> None:
    for path in crd_files:
        for doc in load_documents(path, display=path.name):
            if isinstance(doc.data, dict) and doc.data.get("kind") == \
                    "CustomResourceDefinition":
                cluster.create(doc.data, record=False)
    for name, entry in composed.crds.items():
        manifest = composed.crd_manifests.get(name)
        api = entry.get("apiTypes") or {}
        if manifest is not None:
            try:
                cluster.create(manifest, record=False)
            except ApiError:
                cluster.register_crd(manifest)
        elif api.get("group") and api.get("kind"):
            cluster.register_type(ResourceType(
                api["group"], api.get("version", "v1"), api["kind"],
                api.get("plural") or api["kind"].lower() + "s",
                entry.get("namespaced", True) is not False))


class Simulation:
    """Everything one plan needs: the composed katalog, a cluster, the CR documents."""

    def __init__(self, plan: Plan, *, composed: Composed | None = None,
                 only_crd: str | None = None, trust_hooks: bool = False) -> None:
        self.plan = plan
        self.composed = composed or compose_file(plan.katalog, plan.katalog.name)
        self.clock = VirtualClock()
        self.cluster = MemoryCluster(clock=self.clock, lenient_kinds=True)
        self.engines = Engines(self.composed, trust_hooks=trust_hooks)
        self.engines.load_hooks()
        self.documents = cr_documents(plan.crs)
        self.only_crd = only_crd
        _register(self.cluster, self.composed, plan.crds)

    def targets(self) -> list[tuple[str, Obj]]:
        """(CRD name, CR under test) for each CRD that has a CR."""
        enabled = self.composed.enabled_crds
        crds = {n: enabled[n] for n in self.composed.start_order()
                if n in enabled and self.only_crd in (None, n)}
        if self.only_crd and not crds:
            raise SimulationError(f'CRD "{self.only_crd}" not found; available: '
                                  + ", ".join(sorted(self.composed.crds)))
        found = []
        for name, entry in crds.items():
            kind = str((entry.get("apiTypes") or {}).get("kind", ""))
            docs = [d.data for d in self.documents if d.data.get("kind") == kind]
            if docs:
                found.append((name, docs[0]))
            elif len(crds) == 1:
                raise SimulationError(f'no CR found for CRD "{name}" (kind: {kind}) in '
                                      + ", ".join(p.name for p in self.plan.crs))
        return found

    def seed(self) -> None:
        """Create every CR document: the first of each kind is under test, later ones of
        the same kind pre-exist, other kinds are peers."""
        for doc in self.documents:
            try:
                self.cluster.create(doc.data, record=False)
            except ApiError as exc:
                raise SimulationError(f"{doc.path}: {exc.message}") from None

    def run(self, cycles: int | None = None) -> list[Run]:
        targets = self.targets()
        self.seed()
        return [self.run_crd(crd, cr, cycles or self.plan.cycles) for crd, cr in targets]

    def run_crd(self, crd: str, cr: Obj, count: int) -> Run:
        entry = self.composed.crds[crd]
        reconciler = self.engines.reconciler(crd, self.cluster, self.clock)
        meta = cr["metadata"]
        namespace = meta.get("namespace", "default") if entry.get("namespaced", True) \
            is not False else ""
        cycles: list[Cycle] = []
        start = time.perf_counter()
        for number in range(1, count + 1):
            self.clock.tick()
            before = len(self.cluster.operations)
            result = reconciler.reconcile(meta["name"], namespace or None)
            ops = [self._op(number, o, meta["name"]) for o in self.cluster.operations[before:]]
            cycles.append(Cycle(number, ops, result.error, result.warnings, result.events))
            self.settle()
        run = Run(crd, meta["name"], namespace, cycles, time.perf_counter() - start)
        run.steady_at = steady_cycle(cycles)
        return run

    @staticmethod
    def _op(cycle: int, operation: Any, cr_name: str) -> Op:
        resource = operation.resource
        if resource.endswith("/status"):
            resource = "status"
        return Op(cycle, operation.verb, resource, operation.name or "", operation.namespace)

    def settle(self) -> None:
        """What kubelet and the built-in controllers would do between reconciles."""
        settle_workloads(self.cluster)


def simulate(plan: Plan, *, cycles: int | None = None, only_crd: str | None = None,
             composer: Callable[[Path, str], Composed] | None = None) -> list[Run]:
    """Run one plan; the runs come back in CRD order."""
    composed = (composer or compose_file)(plan.katalog, plan.katalog.name)
    return Simulation(plan, composed=composed, only_crd=only_crd).run(cycles)

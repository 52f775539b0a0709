"""Run a simulation spec: set up the in-memory cluster, reconcile cycle by cycle, record the ops.

One cycle is one reconcile of the CR under test. After each cycle the simulated controllers
act (``orkestra.cluster.kubelet``, shared with the embedded API server): workloads report all
replicas ready and Jobs complete, so status state machines can move on. The steady state is
the first cycle whose writes are empty or equal the previous cycle's.

A cycle that changed nothing (no object, no status), never read the clock and ran no user
code (typed hooks, template functions of the time or of chance) is a fixed point: every
cycle after it would see the same cluster and do exactly the same, so those cycles are
recorded as its copies instead of being run. "Changed nothing" is about the whole
cluster, not the CR's own writes: an object that changed during the cycle (a watched
one, a workload the simulated kubelet settled) makes the next cycle run for real, as its
watch event would make the runtime reconcile again.

The cluster is a :class:`~orkestra.simulate.cluster.SimulatedCluster`: ``cross`` reads
peers from the CR files' documents and sources from the simulate file's ``cross`` stubs;
a cross-namespace copy without its source is skipped. What it had to leave out is a
run's ``notes``; what the CRD declares that simulate cannot exercise (watches, gates,
queue behaviour) is its ``unexercised`` lines (:mod:`orkestra.simulate.unexercised`).
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple, cast

from orkestra.cluster import MemoryCluster, Operation
from orkestra.cluster.errors import ApiError
from orkestra.cluster.kubelet import settle_workloads
from orkestra.cluster.resources import ResourceType
from orkestra.compose import Composed, compose_file
from orkestra.compose.engines import Engines
from orkestra.engine.hooks import EventNote
from orkestra.engine.reconcile import Reconciler
from orkestra.errors import OrkError
from orkestra.kubeobjects import KubeObject
from orkestra.model.errors import PatternError
from orkestra.model.source import SourceDoc, load_documents
from orkestra.simulate.cluster import SimulatedCluster
from orkestra.simulate.spec import SimulationSpec
from orkestra.simulate.unexercised import unexercised
from orkestra.template.notes import random as random_notes
from orkestra.template.notes import time as time_notes

WRITES = ("create", "update", "patch", "delete")
# Template functions that may answer differently a second later (every time note, pure or
# not, to stay on the safe side).
UNREPEATABLE = frozenset(f.name for f in (*time_notes.NOTES, *random_notes.NOTES))
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]\w*")


class SimulationError(OrkError):
    """The simulation could not run (no CR for the CRD, an invalid CR ...)."""


class Op(NamedTuple):
    """One API call of a cycle. A named tuple, not a dataclass: a run records one per call
    and copies them into every repeated cycle, and a tuple is made in a third of the time."""

    cycle: int
    verb: str
    resource: str  # plural, or "status" for the CR's status
    name: str
    namespace: str

    @property
    def is_write(self) -> bool:
        return self.verb in WRITES


@dataclass(kw_only=True)
class Cycle:
    number: int
    ops: list[Op]
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    events: list[EventNote] = field(default_factory=list)  # the hooks' Events

    @property
    def writes(self) -> list[Op]:
        return [op for op in self.ops if op.is_write]


@dataclass(kw_only=True)
class Run:
    """One CRD's CR reconciled for the spec's cycles."""

    crd: str
    cr_name: str
    cr_namespace: str
    cycles: list[Cycle]
    seconds: float
    steady_at: int | None = None
    notes: list[str] = field(default_factory=list)  # what simulate left out, and why
    unexercised: list[str] = field(default_factory=list)  # declared, not exercised

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


def repeated(cycle: Cycle, number: int) -> Cycle:
    """A fixed-point cycle run again as cycle ``number``."""
    return Cycle(
        number=number,
        ops=[Op(number, *op[1:]) for op in cycle.ops],  # the same calls, in cycle number
        error=cycle.error,
        warnings=list(cycle.warnings),
        events=list(cycle.events),
    )


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def unrepeatable_templates(*parts: object) -> bool:
    """Whether a template in ``parts`` may call a function of :data:`UNREPEATABLE`."""
    return any(
        not UNREPEATABLE.isdisjoint(_WORD.findall(action))
        for text in _strings(parts)
        if "{{" in text
        for action in _ACTION.findall(text)
    )


# Measured on a forEach of 10,000 items: with the default thresholds the run made 474
# young, 43 middle and 4 full collections, which freed 6 objects in all (a run makes
# almost no reference cycles: what it allocates lives until it ends) and took 0.14 s of
# its 1.1 s of CPU; frozen and with this threshold, 6 young collections (0.03 s) and the
# run takes 14% less CPU. Young collections still happen, so a katalog whose templates do
# make reference cycles keeps a bounded heap.
_YOUNG_THRESHOLD = 50_000


@contextmanager
def few_collections() -> Iterator[None]:
    """Run with the heap built so far frozen (the collector no longer walks it) and young
    collections rare; both undone afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], _YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class VirtualClock:
    """Starts at the real time; each cycle moves it one second on. ``reads`` counts the
    calls (a cycle that made none does not depend on the time)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.now

    def tick(self) -> None:
        self.now += timedelta(seconds=1)


def cr_documents(paths: list[Path]) -> list[SourceDoc]:
    docs: list[SourceDoc] = []
    for path in paths:
        docs.extend(load_documents(path, display=path.name))
    return [d for d in docs if isinstance(d.data, dict) and d.data.get("kind")]


def object_of(doc: SourceDoc) -> KubeObject:
    """A document of a CR or CRD file (a map with a kind) as the object it stands for: the
    cluster checks it when it is created."""
    return cast(KubeObject, doc.data)


def _register(cluster: MemoryCluster, composed: Composed, crd_files: list[Path]) -> None:
    for path in crd_files:
        for doc in load_documents(path, display=path.name):
            if isinstance(doc.data, dict) and doc.data.get("kind") == "CustomResourceDefinition":
                cluster.create(object_of(doc), record=False)
    for name, entry in composed.crds.items():
        manifest = composed.crd_manifests.get(name)
        api = entry.get("apiTypes") or {}
        if manifest is not None:
            try:
                cluster.create(manifest, record=False)
            except ApiError:
                cluster.register_crd(manifest)
        elif api.get("group") and api.get("kind"):
            cluster.register_type(
                ResourceType(
                    group=api["group"],
                    version=api.get("version", "v1"),
                    kind=api["kind"],
                    plural=api.get("plural") or api["kind"].lower() + "s",
                    namespaced=entry.get("namespaced", True) is not False,
                )
            )


class Simulation:
    """Everything one spec needs: the composed katalog, a cluster, the CR documents."""

    def __init__(
        self,
        spec: SimulationSpec,
        *,
        composed: Composed | None = None,
        only_crd: str | None = None,
        trust_hooks: bool = False,
    ) -> None:
        self.spec = spec
        self.composed = composed or compose_file(spec.katalog, spec.katalog.name)
        self.clock = VirtualClock()
        self.cluster = SimulatedCluster(self.composed, spec.cross, clock=self.clock)
        self.check_stubs()
        self.engines = Engines(self.composed, trust_hooks=trust_hooks)
        self.engines.load_hooks()
        self.documents = cr_documents(spec.crs)
        self.only_crd = only_crd
        _register(self.cluster, self.composed, spec.crds)

    def check_stubs(self) -> None:
        """Each ``cross`` stub of the spec stands for a cross source of the katalog."""
        sources = {
            str(c["as"])
            for e in self.composed.enabled_crds.values()
            for c in ((e.get("operatorBox") or {}).get("observe") or {}).get("cross") or []
            if c.get("source")
        }
        for key in self.spec.cross:
            if key in sources:
                continue
            message = f'spec.cross.{key}: no cross entry with a source reads as "{key}"'
            hint = (
                ("stubs stand for cross sources: " + ", ".join(sorted(sources)))
                if sources
                else "the katalog has no cross source to stub"
            )
            if self.spec.source is None:
                raise SimulationError(f"{message} ({hint})")
            raise PatternError(
                [self.spec.source.problem(("spec", "cross", key), message, key=True, hint=hint)]
            )

    def targets(self) -> list[tuple[str, KubeObject]]:
        """(CRD name, CR under test) for each CRD that has a CR."""
        enabled = self.composed.enabled_crds
        crds = {
            n: enabled[n]
            for n in self.composed.start_order()
            if n in enabled and self.only_crd in (None, n)
        }
        if self.only_crd and not crds:
            raise SimulationError(
                f'CRD "{self.only_crd}" not found; available: '
                + ", ".join(sorted(self.composed.crds))
            )
        found = []
        for name, entry in crds.items():
            kind = str((entry.get("apiTypes") or {}).get("kind", ""))
            docs = [o for o in map(object_of, self.documents) if o.get("kind") == kind]
            if docs:
                found.append((name, docs[0]))
            elif len(crds) == 1:
                raise SimulationError(
                    f'no CR found for CRD "{name}" (kind: {kind}) in '
                    + ", ".join(p.name for p in self.spec.crs)
                )
        return found

    def seed(self) -> None:
        """Create every CR document: the first of each kind is under test, later ones of
        the same kind pre-exist, other kinds are peers (or the sources of copies). Each
        keeps the status it is written with (a create alone would drop it: ``cross``
        reads a peer's status); the namespaces they name are created when missing."""
        for doc in self.documents:
            obj = object_of(doc)
            namespace = (obj.get("metadata") or {}).get("namespace")
            if isinstance(namespace, str) and namespace and not self._has_namespace(namespace):
                self.cluster.create(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                    record=False,
                )
            try:
                made = self.cluster.create(obj, record=False)
                if obj.get("status") and made.get("status") != obj["status"]:
                    self.cluster.update_status({**made, "status": obj["status"]})
            except ApiError as exc:
                raise SimulationError(f"{doc.path}: {exc.message}") from None

    def _has_namespace(self, name: str) -> bool:
        """Asked per document: a Namespace may be one of the documents created before."""
        return any(
            n["metadata"]["name"] == name
            for n in self.cluster.list("v1", "Namespace", record=False)
        )

    def run(self, cycles: int | None = None) -> list[Run]:
        targets = self.targets()
        self.seed()
        with few_collections():
            return [self.run_crd(crd, cr, cycles or self.spec.cycles) for crd, cr in targets]

    def run_crd(self, crd: str, cr: KubeObject, count: int) -> Run:
        entry = self.composed.crds[crd]
        reconciler = self.engines.reconciler(crd, self.cluster, self.clock)
        repeatable = reconciler.hooks is None and not unrepeatable_templates(
            entry, self.composed.top
        )
        meta = cr["metadata"]
        namespace = (
            meta.get("namespace", "default") if entry.get("namespaced", True) is not False else ""
        )
        cycles: list[Cycle] = []
        fixed = False
        self.cluster.notes = []
        start = time.perf_counter()
        for number in range(1, count + 1):
            self.clock.tick()
            if fixed:
                cycles.append(repeated(cycles[-1], number))
                continue
            version, reads = self.cluster.resource_version, self.clock.reads
            cycles.append(self.cycle(reconciler, number, meta["name"], namespace))
            timeless = self.clock.reads == reads
            # (Settling reads the clock for every workload, but only a write depends on it.)
            self.settle()
            fixed = repeatable and timeless and self.cluster.resource_version == version
        run = Run(
            crd=crd,
            cr_name=meta["name"],
            cr_namespace=namespace,
            cycles=cycles,
            seconds=time.perf_counter() - start,
            notes=self.cluster.notes,
            unexercised=unexercised(entry, self.composed.top.get("profiles")),
        )
        run.steady_at = steady_cycle(cycles)
        return run

    def cycle(self, reconciler: Reconciler, number: int, name: str, namespace: str) -> Cycle:
        """One reconcile of the CR, with the operations it made."""
        before = len(self.cluster.operations)
        result = reconciler.reconcile(name, namespace or None)
        ops = [self._op(number, o, name) for o in self.cluster.operations[before:]]
        return Cycle(
            number=number,
            ops=ops,
            error=result.error,
            warnings=result.warnings,
            events=result.events,
        )

    @staticmethod
    def _op(cycle: int, operation: Operation, cr_name: str) -> Op:
        resource = operation.resource
        if resource.endswith("/status"):
            resource = "status"
        return Op(cycle, operation.verb, resource, operation.name or "", operation.namespace)

    def settle(self) -> None:
        """What kubelet and the built-in controllers would do between reconciles."""
        settle_workloads(self.cluster)


def simulate(
    spec: SimulationSpec,
    *,
    cycles: int | None = None,
    only_crd: str | None = None,
    composer: Callable[[Path, str], Composed] | None = None,
) -> list[Run]:
    """Run one spec; the runs come back in CRD order."""
    composed = (composer or compose_file)(spec.katalog, spec.katalog.name)
    return Simulation(spec, composed=composed, only_crd=only_crd).run(cycles)

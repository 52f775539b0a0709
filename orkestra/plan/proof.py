"""Which declarations the author's simulate assertions cover: the pattern's proof.

Each katalog of a composed pattern may ship a ``simulate.yaml`` beside it (pulled patterns
keep theirs in the cache). Its plans are run with the same engine ``ork simulate`` uses;
an ``ops`` rule covers the declaration whose object the matching operation wrote (the
engine stamps every object with the id of its declaration), and an ``absent`` rule covers
the declarations of the kind (and name) it rules out — the author thought about them. A
declaration nothing covers is *not in the author's proof*: the pattern may create it, and
no published assertion says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orkestra.compose import Composed, MotifResolver
from orkestra.compose.load import compose_file
from orkestra.engine.build.base import DECLARATION_ANNOTATION
from orkestra.errors import OrkError
from orkestra.model.shapes import CrdExpectations
from orkestra.plan.objects import Inventory, PlannedObject
from orkestra.simulate.assertions import expectations_for, matches
from orkestra.simulate.runner import Run, Simulation
from orkestra.simulate.spec import SimulationSpec, load_specs

Covered = set[tuple[str, str]]  # (CRD name, declaration id)


@dataclass
class Proof:
    """What the simulate files beside the pattern's katalogs assert."""

    files: list[str] = field(default_factory=list)
    covered: Covered = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def covers(self, obj: PlannedObject) -> bool:
        return (obj.crd, obj.declaration_id) in self.covered


def simulate_files(composed: Composed) -> dict[Path, str]:
    """The ``simulate.yaml`` beside each katalog the pattern is composed of, with the name
    to show for it (its reference for pulled patterns)."""
    found: dict[Path, str] = {}
    for doc in composed.documents:
        if doc.kind in ("Katalog", "Komposer"):
            candidate = doc.directory / "simulate.yaml"
            if candidate.is_file() and candidate not in found:
                shown = doc.display.rsplit("/", 1)[0] if "/" in doc.display else ""
                found[candidate] = f"{shown}/simulate.yaml" if shown else "simulate.yaml"
    return found


def prove(
    composed: Composed,
    inventory: Inventory,
    resolver: MotifResolver | None = None,
    *,
    trust_hooks: bool = False,
) -> Proof:
    proof = Proof()
    # A plan of the pattern's own file (the same file, shown the same way) runs on the
    # composition at hand, and plans of one katalog share theirs: composing is not free.
    compositions = {_key(composed.source.file, composed.source.display): composed}
    for path, shown in simulate_files(composed).items():
        proof.files.append(shown)
        try:
            for plan in load_specs(path, shown):
                _run_plan(plan, inventory, proof, resolver, trust_hooks, compositions)
        except OrkError as exc:
            proof.problems.append(f"{shown}: {exc.render().splitlines()[0]}")
    return proof


def _key(file: Path, display: str) -> tuple[Path, str]:
    return file.resolve(), display


def _run_plan(
    plan: SimulationSpec,
    inventory: Inventory,
    proof: Proof,
    resolver: MotifResolver | None,
    trust_hooks: bool,
    compositions: dict[tuple[Path, str], Composed],
) -> None:
    if plan.expect is None:
        return
    key = _key(plan.katalog, str(plan.katalog))
    composed = compositions.get(key)
    if composed is None:
        composed = compositions[key] = compose_file(
            plan.katalog, str(plan.katalog), motifs=resolver
        )
    simulation = Simulation(plan, composed=composed, trust_hooks=trust_hooks)
    runs = simulation.run()
    written = _declarations(simulation)
    for run in runs:
        expect = expectations_for(plan.expect, run.crd)
        _cover_ops(run, expect, written, proof)
        _cover_absent(run.crd, expect, inventory, proof)


def _declarations(simulation: Simulation) -> dict[tuple[str, str, str], str]:
    """(resource, namespace, name) -> declaration id, for everything the engine wrote."""
    found = {}
    for event in simulation.cluster.events:
        meta = event.object.get("metadata") or {}
        declaration = (meta.get("annotations") or {}).get(DECLARATION_ANNOTATION)
        if declaration:
            found[(event.resource, meta.get("namespace") or "", meta.get("name", ""))] = declaration
    return found


def _cover_ops(
    run: Run, expect: CrdExpectations, written: dict[tuple[str, str, str], str], proof: Proof
) -> None:
    for rule in expect.get("ops") or []:
        for op in run.ops:
            if matches(rule, op):
                declaration = written.get((op.resource, op.namespace, op.name))
                if declaration:
                    proof.covered.add((run.crd, declaration))


def _cover_absent(crd: str, expect: CrdExpectations, inventory: Inventory, proof: Proof) -> None:
    plan = inventory.crd(crd)
    if plan is None:
        return
    for rule in expect.get("absent") or []:
        for obj in plan.objects:
            if rule.get("resource") in (None, obj.resource) and rule.get("name") in (
                None,
                obj.name,
            ):
                proof.covered.add((crd, obj.declaration_id))

"""Running simulations for the CLI and for ``ork push``: files, katalogs, discovery."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from orkestra.compose import MotifResolver
from orkestra.compose.load import compose_document
from orkestra.model.errors import Problem
from orkestra.model.loader import load_document
from orkestra.simulate.assertions import Check, assertion_count, check, expectations_for
from orkestra.simulate.report import RunReport
from orkestra.simulate.runner import Simulation
from orkestra.simulate.spec import DEFAULT_CYCLES, SimulationSpec, load_specs


@dataclass(kw_only=True)
class Outcome:
    """The result of simulating one file (all its specs)."""

    file: str
    reports: list[RunReport] = field(default_factory=list)
    assertions: int = 0
    seconds: float = 0.0
    has_expect: bool = False

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.reports)

    @property
    def status(self) -> str:
        """The gate status: ``passed``, ``no-assertion`` or ``failed``."""
        if not self.passed:
            return "failed"
        return "passed" if self.has_expect else "no-assertion"


def run_specs(
    specs: list[SimulationSpec],
    display: str,
    *,
    cycles: int | None = None,
    only_crd: str | None = None,
    resolver: MotifResolver | None = None,
    trust_hooks: bool = False,
) -> Outcome:
    """Run simulation specs. ``trust_hooks``: run the Python hooks of pulled patterns too."""
    outcome = Outcome(file=display)
    resolver = resolver or MotifResolver()
    start = time.perf_counter()
    for spec in specs:
        doc = load_document(spec.katalog, kinds=("Katalog", "Komposer"), display=spec.katalog.name)
        composed = compose_document(doc, resolver)
        simulation = Simulation(spec, composed=composed, only_crd=only_crd, trust_hooks=trust_hooks)
        count = cycles or spec.cycles
        for run in simulation.run(count):
            checks, errors_expected = None, False
            if spec.expect is not None:
                outcome.has_expect = True
                expect = expectations_for(spec.expect, run.crd)
                checks = check(expect, run, count)
                errors_expected = expect.get("noErrors") is False
            outcome.reports.append(
                RunReport(
                    run=run,
                    checks=checks,
                    problems=_failures(spec, checks),
                    errors_expected=errors_expected,
                )
            )
        outcome.assertions += assertion_count(spec.expect)
    outcome.seconds = time.perf_counter() - start
    return outcome


def _failures(spec: SimulationSpec, checks: list[Check] | None) -> list[Problem]:
    """The failed checks as problems at the lines of their rules."""
    found = (
        spec.problem(c.rule, c.key, f"simulate {spec.name}: {c.line.lstrip('✗ ')}")
        for c in checks or []
        if not c.passed
    )
    return [p for p in found if p is not None]


def run_file(
    path: Path,
    display: str,
    *,
    cycles: int | None = None,
    only_crd: str | None = None,
    trust_hooks: bool = False,
) -> Outcome:
    """Simulate a ``simulate.yaml`` (or an aggregator of them)."""
    return run_specs(
        load_specs(path, display, cycles=cycles),
        display,
        cycles=cycles,
        only_crd=only_crd,
        trust_hooks=trust_hooks,
    )


def run_katalog(
    katalog: Path,
    cr: Path,
    display: str,
    *,
    cycles: int | None = None,
    only_crd: str | None = None,
    trust_hooks: bool = False,
) -> Outcome:
    """Op-print mode: reconcile a katalog's CRs without assertions."""
    spec = SimulationSpec(
        name=katalog.stem,
        katalog=katalog,
        crs=[cr],
        cycles=cycles or DEFAULT_CYCLES,
        display=display,
    )
    return run_specs([spec], display, cycles=cycles, only_crd=only_crd, trust_hooks=trust_hooks)


def discover(root: Path, skip: tuple[str, ...] = (), name: str = "simulate.yaml") -> list[Path]:
    """Every file called ``name`` below ``root`` (sorted, hidden directories left out),
    minus the paths that contain one of ``skip``."""
    found = sorted(
        p
        for p in root.rglob(name)
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    return [p for p in found if not any(s in str(p) for s in skip)]

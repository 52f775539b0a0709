"""The simulate report, in the format of the seeds:

    Simulating cache/my-cache
      Cycle 1:
        + statefulsets/my-cache
        ~ status/my-cache

      ✗ configmaps/my-cache-config not found (expected cycle 1 create)

      3/4 assertions passed, 1 failed
      FAIL
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orkestra import markdown as md
from orkestra.model.errors import Problem
from orkestra.simulate.assertions import Check
from orkestra.simulate.runner import Cycle, Run
from orkestra.units import format_duration

_ICONS = {"create": "+", "delete": "-"}


@dataclass
class RunReport:
    run: Run
    checks: list[Check] | None  # None: op-print mode (no expect)
    lines: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # failed checks, at their lines

    @property
    def passed(self) -> bool:
        return self.checks is None or all(c.passed for c in self.checks)

    @property
    def counted(self) -> tuple[int, int]:
        counted = [c for c in self.checks or [] if c.counted]
        return sum(c.passed for c in counted), len(counted)


def cycle_lines(cycle: Cycle) -> tuple[tuple[str, ...], list[str]]:
    """(fold key, lines) of one cycle: writes folded per resource/name, first seen first."""
    grouped: dict[str, list[str]] = {}
    for op in cycle.writes:
        grouped.setdefault(f"{op.resource}/{op.name}", []).append(op.verb)
    lines = []
    for target, verbs in grouped.items():
        icon = "+" if "create" in verbs else "-" if "delete" in verbs else "~"
        lines.append(f"    {icon} {target}")
    return tuple(lines), lines


def render_run(report: RunReport, *, verbose: bool, debug_ops: bool) -> list[str]:
    run = report.run
    out = [f"Simulating {run.crd}/{run.cr_name}"]
    previous: tuple[str, ...] | None = None  # the last printed cycle's lines and error
    folded: list[int] = []

    def flush() -> None:
        if folded:
            span = f"{folded[0]}–{folded[-1]}" if len(folded) > 1 else str(folded[0])
            label = "cycles" if len(folded) > 1 else "cycle"
            out.append(f"  ({label} {span}: identical)")
            folded.clear()

    for cycle in run.cycles:
        lines_key, lines = cycle_lines(cycle)
        if not lines and cycle.error is None:
            continue
        key = (*lines_key, cycle.error or "")
        if key == previous:
            folded.append(cycle.number)
            continue
        flush()
        out.append(f"  Cycle {cycle.number}:")
        out.extend(lines)
        if cycle.error is not None:
            out.append(f"    ✗ {cycle.error}")
        if verbose:
            out.extend(f"    ! {w}" for w in cycle.warnings)
            out.extend(f"    ⚑ event {e.type} {e.reason}: {e.message}" for e in cycle.events)
        previous = key
    flush()
    if debug_ops:
        out.extend(f"  [debug-ops] cycle={op.cycle:<3} verb={op.verb:<7} "
                   f"resource={op.resource:<24} name={op.name}" for op in run.ops)
    out.append("")
    if report.checks is None:
        where = f"at cycle {run.steady_at}" if run.steady_at else \
            f"not reached in {len(run.cycles)} cycles"
        out.append(f"  Steady state {where} ({format_duration(run.seconds)})")
        return out
    shown = [c for c in report.checks if not c.passed or verbose or not c.counted]
    uncounted = [c for c in shown if not c.counted]
    counted = [c for c in shown if c.counted]
    out.extend(f"  {c.line}" for c in uncounted)
    out.extend(f"  {c.line}" for c in counted)
    if shown:
        out.append("")
    passed, total = report.counted
    failed = total - passed
    out.append(f"  {passed}/{total} assertions passed" + (f", {failed} failed" if failed
                                                          else ""))
    out.append("  PASS" if report.passed else "  FAIL")
    return out


def run_json(report: RunReport) -> dict[str, Any]:
    run = report.run
    passed, total = report.counted
    return {
        "crd": run.crd, "cr": run.cr_name, "namespace": run.cr_namespace,
        "steadyAt": run.steady_at, "milliseconds": round(run.seconds * 1000, 3),
        "passed": report.passed, "assertions": {"passed": passed, "total": total},
        "cycles": [{"cycle": c.number, "error": c.error, "warnings": c.warnings,
                    "events": [{"type": e.type, "reason": e.reason, "message": e.message}
                               for e in c.events],
                    "ops": [{"verb": o.verb, "resource": o.resource, "name": o.name,
                             "namespace": o.namespace} for o in c.ops]}
                   for c in run.cycles],
        "checks": [{"passed": c.passed, "line": c.line, "counted": c.counted}
                   for c in report.checks or []],
    }


def markdown(files: list[tuple[str, str, list[RunReport]]]) -> str:
    """Simulations as Markdown for a CI job summary: ``files`` holds (file, status or an
    error, reports); a row per CR, then the failed checks at their lines."""
    passed = all(status in ("passed", "no-assertion") for _, status, _ in files)
    rows = []
    failures = []
    for file, status, reports in files:
        if not reports:
            rows.append([md.mark(False), file, "", "", status, ""])
        for report in reports:
            run = report.run
            done, total = report.counted
            rows.append([md.mark(report.passed), file, f"{run.crd}/{run.cr_name}",
                         f"{done}/{total}" if report.checks is not None else "no assertions",
                         f"cycle {run.steady_at}" if run.steady_at else "not reached",
                         format_duration(run.seconds)])
            failures += [[f"{p.file}:{p.line}" if p.line else p.file, p.message]
                         for p in report.problems]
    lines = [f"## ork simulate: {'PASS' if passed else 'FAIL'}", "",
             *md.table(["", "File", "CRD/CR", "Assertions", "Steady", "Time"], rows), ""]
    if failures:
        lines += ["**Failed:**", "", *md.table(["Where", "Check"], failures), ""]
    return "\n".join(lines)

"""The simulate report, in the format of the seeds:

    Simulating cache/my-cache
      Cycle 1:
        + statefulsets/my-cache
        ~ status/my-cache

      ✗ configmaps/my-cache-config not found (expected cycle 1 create)

      3/4 assertions passed, 1 failed
      FAIL

Under the first line, ``  note: ...`` lines say what simulate left out (a cross-namespace
copy without its source, a cross source without a stub); with ``-v`` they also list what
the CRD declares that simulate does not exercise (watches, gates, queue behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orkestra import markdown as md
from orkestra.kubeobjects import JsonDict
from orkestra.model.errors import Problem
from orkestra.simulate.assertions import Check
from orkestra.simulate.runner import Cycle, Run
from orkestra.units import format_duration

_ICONS = {"create": "+", "delete": "-"}


@dataclass(kw_only=True)
class RunReport:
    run: Run
    checks: list[Check] | None  # None: op-print mode (no expect)
    lines: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # failed checks, at their lines
    errors_expected: bool = False
    """The expect block says ``noErrors: false``: reconcile errors are the behaviour under
    test (a denied CR), not a failure."""

    @property
    def passed(self) -> bool:
        """Every check passed, and no cycle failed to reconcile unless errors were expected:
        a ``✗`` in the report is never a silent pass."""
        return (self.errors_expected or not self.run.errors) and (
            self.checks is None or all(c.passed for c in self.checks)
        )

    @property
    def unexpected_errors(self) -> list[Cycle]:
        return [] if self.errors_expected else self.run.errors

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
    out.extend(f"  note: {note}" for note in [*run.notes, *(run.unexercised if verbose else [])])
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
            out.extend(f"    ⚠ {w}" for w in cycle.warnings)
            out.extend(f"    ⚑ event {e.type} {e.reason}: {e.message}" for e in cycle.events)
        previous = key
    flush()
    if debug_ops:
        out.extend(
            f"  [debug-ops] cycle={op.cycle:<3} verb={op.verb:<7} "
            f"resource={op.resource:<24} name={op.name}"
            for op in run.ops
        )
    out.append("")
    errors = _errors_note(report.unexpected_errors)
    if report.checks is None:
        where = (
            f"at cycle {run.steady_at}"
            if run.steady_at
            else f"not reached in {len(run.cycles)} cycles"
        )
        out.append(f"  Steady state {where} ({format_duration(run.seconds)})")
        if errors:
            out += [f"  ✗ {errors}", "  FAIL"]
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
    out.append(
        f"  {passed}/{total} assertions passed"
        + (f", {failed} failed" if failed else "")
        + (f", {errors}" if errors else "")
    )
    out.append("  PASS" if report.passed else "  FAIL")
    return out


def _errors_note(cycles: list[Cycle]) -> str:
    """``2 cycles failed to reconcile``, or ""."""
    count = len(cycles)
    if not count:
        return ""
    return f"{count} cycle{'s' if count != 1 else ''} failed to reconcile"


def run_json(report: RunReport) -> JsonDict:
    run = report.run
    passed, total = report.counted
    return {
        "crd": run.crd,
        "cr": run.cr_name,
        "namespace": run.cr_namespace,
        "steadyAt": run.steady_at,
        "milliseconds": round(run.seconds * 1000, 3),
        "notes": run.notes,
        "notExercised": run.unexercised,
        "passed": report.passed,
        "assertions": {"passed": passed, "total": total},
        "cycles": [
            {
                "cycle": c.number,
                "error": c.error,
                "warnings": c.warnings,
                "events": [
                    {"type": e.type, "reason": e.reason, "message": e.message} for e in c.events
                ],
                "ops": [
                    {
                        "verb": o.verb,
                        "resource": o.resource,
                        "name": o.name,
                        "namespace": o.namespace,
                    }
                    for o in c.ops
                ],
            }
            for c in run.cycles
        ],
        "checks": [
            {"passed": c.passed, "line": c.line, "counted": c.counted} for c in report.checks or []
        ],
    }


FileResult = tuple[str, str, list[RunReport]]
"""(file, its status — ``passed``, ``no-assertion`` or ``failed`` — or the error that kept
it from running, its reports)."""

_STATUSES = ("passed", "no-assertion", "failed")


@dataclass(frozen=True, kw_only=True)
class Totals:
    """What a run over many simulate files adds up to."""

    files: int = 0
    passed: int = 0
    no_assertion: int = 0
    failed: int = 0
    not_run: int = 0
    crs: int = 0
    assertions_passed: int = 0
    assertions: int = 0
    reconcile_errors: int = 0

    @classmethod
    def of(cls, files: list[FileResult]) -> Totals:
        statuses = [status if status in _STATUSES else "error" for _, status, _ in files]
        reports = [report for _, _, reports in files for report in reports]
        counted = [report.counted for report in reports]
        return cls(
            files=len(files),
            passed=statuses.count("passed"),
            no_assertion=statuses.count("no-assertion"),
            failed=statuses.count("failed"),
            not_run=statuses.count("error"),
            crs=len(reports),
            assertions_passed=sum(done for done, _ in counted),
            assertions=sum(total for _, total in counted),
            reconcile_errors=sum(len(r.unexpected_errors) for r in reports),
        )

    @property
    def ok(self) -> bool:
        """Something ran, and nothing failed or was kept from running."""
        return self.files > 0 and not self.failed and not self.not_run

    def line(self) -> str:
        """``12 files: 10 passed, 1 failed, 1 could not run · 14 CRs · 40/41 assertions
        passed · FAIL``."""
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.passed, "passed"),
                (self.no_assertion, "without assertions"),
                (self.failed, "failed"),
                (self.not_run, "could not run"),
            )
            if n
        ]
        head = f"{_plural(self.files, 'file')}: {', '.join(parts) or 'none ran'}"
        tail = [
            _plural(self.crs, "CR"),
            f"{self.assertions_passed}/{self.assertions} assertions passed",
        ]
        if self.reconcile_errors:
            tail.append(f"{_plural(self.reconcile_errors, 'cycle')} failed to reconcile")
        return " · ".join([head, *tail, "PASS" if self.ok else "FAIL"])

    def to_json(self) -> JsonDict:
        return {
            "files": self.files,
            "passed": self.passed,
            "noAssertion": self.no_assertion,
            "failed": self.failed,
            "notRun": self.not_run,
            "crs": self.crs,
            "assertions": {"passed": self.assertions_passed, "total": self.assertions},
            "reconcileErrors": self.reconcile_errors,
            "ok": self.ok,
        }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def markdown(files: list[FileResult]) -> str:
    """Simulations as Markdown for a CI job summary: a row per CR, the totals, then the
    failed checks at their lines."""
    totals = Totals.of(files)
    rows = []
    failures = []
    for file, status, reports in files:
        if not reports:
            rows.append([md.mark(False), file, "", "", status, ""])
        for report in reports:
            run = report.run
            done, total = report.counted
            rows.append(
                [
                    md.mark(report.passed),
                    file,
                    f"{run.crd}/{run.cr_name}",
                    f"{done}/{total}" if report.checks is not None else "no assertions",
                    f"cycle {run.steady_at}" if run.steady_at else "not reached",
                    format_duration(run.seconds),
                ]
            )
            failures += [
                [f"{p.file}:{p.line}" if p.line else p.file, p.message] for p in report.problems
            ]
    lines = [
        f"## ork simulate: {'PASS' if totals.ok else 'FAIL'}",
        "",
        *md.table(["", "File", "CRD/CR", "Assertions", "Steady", "Time"], rows),
        "",
        md.text(totals.line()),
        "",
    ]
    if failures:
        lines += ["**Failed:**", "", *md.table(["Where", "Check"], failures), ""]
    return "\n".join(lines)

"""The simulate report: a reconcile error is never a silent pass, and a run over many files
adds up to one honest totals line."""

from __future__ import annotations

from orkestra.simulate.assertions import Check
from orkestra.simulate.report import RunReport, Totals, markdown, render_run
from orkestra.simulate.runner import Cycle, Op, Run


def _run(*errors: str | None) -> Run:
    cycles = [
        Cycle(
            number=n,
            ops=[Op(cycle=n, verb="create", resource="configmaps", name="x", namespace="default")]
            if n == 1
            else [],
            error=error,
        )
        for n, error in enumerate(errors, start=1)
    ]
    return Run(
        crd="cache",
        cr_name="my-cache",
        cr_namespace="default",
        cycles=cycles,
        seconds=0.01,
        steady_at=None,
    )


PASSING = [Check(passed=True, line="✓ created configmaps/x", counted=True)]


def test_a_reconcile_error_fails_the_run_even_when_every_assertion_passes() -> None:
    report = RunReport(run=_run(None, "boom: template failed"), checks=PASSING)
    assert not report.passed
    lines = render_run(report, verbose=False, debug_ops=False)
    assert "    ✗ boom: template failed" in lines
    assert lines[-2:] == ["  1/1 assertions passed, 1 cycle failed to reconcile", "  FAIL"]


def test_errors_the_file_expects_are_no_failure() -> None:
    report = RunReport(run=_run("validation denied"), checks=PASSING, errors_expected=True)
    assert report.passed
    assert render_run(report, verbose=False, debug_ops=False)[-2:] == [
        "  1/1 assertions passed",
        "  PASS",
    ]


def test_without_assertions_a_reconcile_error_still_fails() -> None:
    report = RunReport(run=_run("boom", "boom"), checks=None)
    assert not report.passed
    assert render_run(report, verbose=False, debug_ops=False)[-2:] == [
        "  ✗ 2 cycles failed to reconcile",
        "  FAIL",
    ]
    assert RunReport(run=_run(None), checks=None).passed


def test_warnings_use_the_warning_symbol() -> None:
    run = _run(None)
    run.cycles[0].warnings.append("motif input ignored")
    lines = render_run(RunReport(run=run, checks=PASSING), verbose=True, debug_ops=False)
    assert "    ⚠ motif input ignored" in lines


def test_totals_count_every_kind_of_file() -> None:
    failing = RunReport(
        run=_run(None), checks=[Check(passed=False, line="✗ missing", counted=True), *PASSING]
    )
    files = [
        ("a/simulate.yaml", "passed", [RunReport(run=_run(None), checks=PASSING)]),
        ("b/simulate.yaml", "no-assertion", [RunReport(run=_run(None), checks=None)]),
        ("c/simulate.yaml", "failed", [failing, RunReport(run=_run("boom"), checks=PASSING)]),
        ("d/simulate.yaml", "katalog.yaml:3: unknown motif", []),
    ]
    totals = Totals.of(files)
    assert not totals.ok
    assert totals.line() == (
        "4 files: 1 passed, 1 without assertions, 1 failed, 1 could not "
        "run · 4 CRs · 3/4 assertions passed · 1 cycle failed to "
        "reconcile · FAIL"
    )
    assert totals.to_json()["notRun"] == 1
    assert "4 files: 1 passed" in markdown(files)
    assert markdown(files).startswith("## ork simulate: FAIL")


def test_all_passed_is_ok_and_nothing_found_is_not() -> None:
    passed = Totals.of([("a/simulate.yaml", "passed", [RunReport(run=_run(None), checks=PASSING)])])
    assert passed.ok
    assert passed.line() == "1 file: 1 passed · 1 CR · 1/1 assertions passed · PASS"
    assert not Totals.of([]).ok
    assert Totals.of([]).line() == "0 files: none ran · 0 CRs · 0/0 assertions passed · FAIL"

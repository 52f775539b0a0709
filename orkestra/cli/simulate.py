"""``ork simulate``: the simulate gate, run locally (and ``ork simulate init``)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from orkestra.cli import ci
from orkestra.cli.files import append_report, emit_text, write_text_atomic
from orkestra.cli.files import discover as discover_files
from orkestra.cli.groups import DefaultRun
from orkestra.cli.output import emit, err, fail, ok, out, progress, style
from orkestra.cli.params import format_option, report_file_option, trust_hooks_option
from orkestra.errors import OrkError, UsageError
from orkestra.files import shown
from orkestra.kubeobjects import JsonDict
from orkestra.limits import MAX_CYCLES
from orkestra.model.loader import detect_kind
from orkestra.model.source import load_documents
from orkestra.simulate.gate import Outcome, discover, run_file, run_katalog
from orkestra.simulate.report import FileResult, Totals, markdown, render_run, run_json
from orkestra.units import format_duration


@click.group("simulate", cls=DefaultRun)
def command() -> None:
    """Reconcile in memory and check the author's assertions (the simulate gate).

    \b
    ork simulate                  simulate.yaml here (or katalog.yaml + cr.yaml, no asserts)
    ork simulate -f FILE          a simulate file, or a katalog with --cr
    ork simulate ./...            every simulate.yaml below here
    ork simulate init             write simulate.yaml from the first reconcile

    Exits 1 when an assertion fails, a cycle fails to reconcile (unless the expect block
    says noErrors: false), a file cannot run, or DIR/... finds no simulate.yaml.
    """


def _select(file: str | None, cr: str) -> tuple[str, Path, Path | None]:
    """(mode, path, cr path): mode is ``assert`` (a Simulate file) or ``print``."""
    if file is None:
        here = discover_files(("simulate.yaml",))
        if here:
            return "assert", here[0], None
        katalogs = discover_files(("katalog.yaml", "komposer.yaml"))
        if not katalogs:
            raise UsageError(
                f"no simulate.yaml, katalog.yaml or komposer.yaml in {Path.cwd()};"
                " name one with -f FILE"
            )
        return "print", katalogs[0], Path(cr)
    path = Path(file)
    kind = detect_kind(load_documents(path, display=file)[0])
    if kind == "E2E":
        raise OrkError(
            f"{file} is an E2E file — use 'ork e2e' for cluster testing, or run "
            "'ork simulate init' to generate a simulate.yaml"
        )
    if kind == "Simulate":
        return "assert", path, None
    if kind in ("Katalog", "Komposer"):
        cr_path = Path(cr) if Path(cr).is_absolute() or Path(cr).exists() else path.parent / cr
        return "print", path, cr_path
    raise OrkError(f"{file} is a {kind}; simulate takes a Simulate, Katalog or Komposer file")


def _print(outcome: Outcome, verbose: bool, debug_ops: bool) -> None:
    for i, report in enumerate(outcome.reports):
        if i:
            out()
        for line in render_run(report, verbose=verbose, debug_ops=debug_ops):
            if line.strip() == "FAIL":
                line = line.replace("FAIL", style("FAIL", "red"))
            elif line.strip() == "PASS":
                line = line.replace("PASS", style("PASS", "green"))
            out(line)


def _outcome_json(outcome: Outcome) -> JsonDict:
    return {
        "file": outcome.file,
        "status": outcome.status,
        "passed": outcome.passed,
        "assertions": outcome.assertions,
        "milliseconds": round(outcome.seconds * 1000, 3),
        "runs": [run_json(r) for r in outcome.reports],
    }


@command.command("run")
@click.argument("pattern", required=False)
@click.option(
    "-f",
    "--file",
    "file",
    type=click.Path(dir_okay=False),
    help="A simulate file, or a katalog/komposer (with --cr, no assertions).",
)
@click.option("--cr", default="cr.yaml", show_default=True, help="CR file for a katalog.")
@click.option("--crd", help="Only this CRD.")
@click.option(
    "--cycles",
    type=click.IntRange(1, MAX_CYCLES),
    help="Cycles to run (default: the file's spec.cycles, else 10).",
)
@click.option("--skip", multiple=True, help="With ./...: skip paths containing this.")
@click.option("-v", "--verbose", is_flag=True, help="Show passing assertions and warnings.")
@click.option("--debug-ops", is_flag=True, help="List every API call of every cycle.")
@format_option()
@trust_hooks_option
@report_file_option
def run(
    pattern: str | None,
    file: str | None,
    cr: str,
    crd: str | None,
    cycles: int | None,
    skip: tuple[str, ...],
    verbose: bool,
    debug_ops: bool,
    output: str,
    trust_hooks: bool,
    report_file: Path | None,
) -> int:
    """Run simulations (the default subcommand)."""
    if pattern is not None:
        if not pattern.endswith("..."):
            raise click.UsageError(
                f"unexpected argument {pattern!r} (use -f FILE, or DIR/... "
                "to run every simulate.yaml below DIR)"
            )
        return _discovery(
            Path(pattern[:-3] or "."),
            skip,
            cycles=cycles,
            output=output,
            trust_hooks=trust_hooks,
            report_file=report_file,
        )
    mode, path, cr_path = _select(file, cr)
    if mode == "assert":
        outcome = run_file(path, shown(path), cycles=cycles, only_crd=crd, trust_hooks=trust_hooks)
    else:
        assert cr_path is not None
        if not cr_path.is_file():
            raise UsageError(f"{cr_path} not found; name the CR file with --cr")
        outcome = run_katalog(
            path, cr_path, shown(path), cycles=cycles, only_crd=crd, trust_hooks=trust_hooks
        )
    _report([(outcome.file, outcome.status, outcome.reports)], [outcome], report_file)
    if output != "text":
        emit(output, _outcome_json(outcome))
    else:
        _print(outcome, verbose, debug_ops)
    return 0 if outcome.passed else 1


def _report(
    results: list[FileResult], outcomes: list[Outcome | None], report_file: Path | None
) -> None:
    """CI: the failed checks annotated at their lines, and the Markdown summary (made only
    when there is a file to write it to)."""
    for outcome in outcomes:
        ci.annotate(
            (p for r in outcome.reports for p in r.problems) if outcome else (), "ork simulate"
        )
    append_report(report_file, partial(markdown, results))


def _discover(root: Path, skip: tuple[str, ...]) -> list[Path]:
    """The simulate files below ``root``: finding none is an error, never a silent pass."""
    if not root.is_dir():
        raise UsageError(
            f"{root}: no such directory", hint="DIR/... runs every simulate.yaml below DIR"
        )
    files = discover(root, skip)
    if not files:
        skipped = f" (after --skip {' '.join(skip)})" if skip else ""
        raise OrkError(
            f"no simulate.yaml below {shown(root)}{skipped}",
            hint="ork simulate init writes one next to a katalog",
        )
    return files


def _discovery(
    root: Path,
    skip: tuple[str, ...],
    *,
    cycles: int | None,
    output: str,
    trust_hooks: bool,
    report_file: Path | None,
) -> int:
    paths = _discover(root, skip)
    outcomes: list[Outcome | None] = []
    results: list[FileResult] = []
    for path in paths:
        try:
            outcome = run_file(path, shown(path), cycles=cycles, trust_hooks=trust_hooks)
            results.append((shown(path), outcome.status, outcome.reports))
        except OrkError as exc:
            ci.annotate_failure(exc, "ork simulate")
            outcome = None
            results.append((shown(path), exc.render().splitlines()[0], []))
        outcomes.append(outcome)
    _report(results, outcomes, report_file)
    totals = Totals.of(results)
    if output != "text":
        emit(
            output,
            {
                "files": [
                    {"file": file, "error": None if o else error, **(_outcome_json(o) if o else {})}
                    for (file, error, _), o in zip(results, outcomes, strict=True)
                ],
                "passed": totals.ok,
                "totals": totals.to_json(),
            },
        )
        return 0 if totals.ok else 1
    for (file, status, _), outcome in zip(results, outcomes, strict=True):
        out(f"  {file:<55} {_file_status(status, outcome)}")
    timed = [(o.seconds, file) for (file, _, _), o in zip(results, outcomes, strict=True) if o]
    out()
    if timed:
        slowest = max(timed)
        out(f"  Slowest: {slowest[1]} ({format_duration(slowest[0])})")
    out(f"  {style(totals.line(), 'green' if totals.ok else 'red')}")
    failed = [
        file for (file, _, _), o in zip(results, outcomes, strict=True) if o is None or not o.passed
    ]
    if failed:
        err("\nFiles that failed — run one for its full report:")
        for file in failed:
            err(f"    ork simulate -f {file}")
    return 0 if totals.ok else 1


def _file_status(status: str, outcome: Outcome | None) -> str:
    """``✓ passed (12ms)``, ``⚠ no assertions (3ms)``, ``✗ failed (9ms)`` or ``✗ error``."""
    if outcome is None:
        return style("✗", "red") + f" {status}"
    took = f" ({format_duration(outcome.seconds)})"
    if status == "passed":
        return style("✓", "green") + " passed" + took
    if status == "no-assertion":
        return style("⚠", "yellow") + " no assertions" + took
    return style("✗", "red") + " failed" + took


@command.command("init")
@click.option(
    "-f",
    "--file",
    "file",
    type=click.Path(dir_okay=False),
    help="Katalog or komposer (default: katalog.yaml or komposer.yaml here).",
)
@click.option("--cr", default="cr.yaml", show_default=True, help="The CR to reconcile.")
@click.option("--force", is_flag=True, help="Overwrite an existing simulate.yaml.")
@click.option("--dry-run", is_flag=True, help="Print instead of writing.")
def init(file: str | None, cr: str, force: bool, dry_run: bool) -> int:
    """Write simulate.yaml with the creates of the first reconcile as assertions."""
    from orkestra.simulate.scaffold import scaffold  # its YAML writer: only this command

    katalog = (
        Path(file) if file else next(iter(discover_files(("katalog.yaml", "komposer.yaml"))), None)
    )
    if katalog is None:
        raise UsageError("no katalog.yaml or komposer.yaml here; name one with -f FILE")
    cr_path = Path(cr) if Path(cr).exists() else katalog.parent / cr
    if not cr_path.is_file():
        raise UsageError(f"{cr} not found; name the CR file with --cr")
    target = katalog.parent / "simulate.yaml"
    if target.exists() and not force and not dry_run:
        fail("simulate.yaml already exists — use --force to overwrite")
        return 1
    text, crds, rules = scaffold(katalog, cr_path, target)
    if dry_run:
        emit_text(text, None)
        return 0
    write_text_atomic(target, text)
    ok(f"Generated {shown(target)}")
    progress(f"  {crds} CRD(s), {rules} op rule(s)")
    progress("  Run ork simulate to verify.")
    return 0

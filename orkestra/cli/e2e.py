"""``ork e2e``: run e2e.yaml suites on a cluster (and ``ork e2e init``)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from orkestra.cli.files import append_report, emit_text, write_text_atomic
from orkestra.cli.groups import DefaultRun
from orkestra.cli.output import emit, ok, out, progress, style
from orkestra.cli.params import duration, format_option, report_file_option, trust_hooks_option
from orkestra.e2e import report
from orkestra.e2e.result import CLUSTER_LABELS, EMBEDDED, ExpectationResult, RunResult
from orkestra.e2e.runner import CLUSTER_KINDS, Options, run
from orkestra.e2e.scaffold import TARGET, ensure_new, find_inputs, scaffold, scaffold_suite
from orkestra.e2e.spec import Suite, load_suite
from orkestra.e2e.targets import Cluster
from orkestra.errors import UsageError
from orkestra.files import shown
from orkestra.simulate.gate import discover
from orkestra.units import format_duration


@click.group("e2e", cls=DefaultRun)
def command() -> None:
    """Run the e2e gate: the pattern's CR on a cluster, checked by e2e.yaml.

    \b
    ork e2e                       e2e.yaml here, on the embedded API server unless
                                  docker and kind exist (then a kind cluster)
    ork e2e --use-current         on the current kubectl context (never deleted)
    ork e2e ./...                 every e2e.yaml below here
    ork e2e init                  write e2e.yaml from the katalog and the CR

    The embedded API server has no kubelet (workloads are reported ready): a weaker proof
    than a real cluster, and every result says where it ran. Exits 1 when an expectation
    fails or the teardown leaves something behind.
    """


@command.command("run")
@click.argument("target", required=False, metavar="[FILE | DIR/...]")
@click.option(
    "-f",
    "--file",
    "file",
    type=click.Path(dir_okay=False),
    help="The e2e file [default: e2e.yaml].",
)
@click.option(
    "--cluster-kind",
    type=click.Choice(CLUSTER_KINDS),
    help="Where to run [default: the file's cluster.provider; kind only where "
    "docker and kind exist, else embedded].",
)
@click.option("--use-current", is_flag=True, help="Run on the current kubectl context.")
@click.option(
    "--cluster", "context", metavar="CONTEXT", help="Run on this kubectl context (never deleted)."
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Kubeconfig for --use-current/--cluster [default: $KUBECONFIG, ~/.kube/config].",
)
@click.option("--keep-cluster", is_flag=True, help="Do not delete a kind cluster it made.")
@click.option("--workers", type=click.IntRange(1, 50), help="Runtime workers per CRD.")
@click.option(
    "--poll",
    default="1s",
    show_default=True,
    callback=duration,
    help="Time between two polls of an expectation.",
)
@click.option(
    "--wait", "wait_between", callback=duration, help="With DIR/...: pause between two files."
)
@click.option("--skip", multiple=True, help="With DIR/...: skip paths containing this.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file (or list what DIR/... finds) without touching a cluster.",
)
@report_file_option
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML."
)
@format_option()
@trust_hooks_option
def run_command(
    target: str | None,
    file: str | None,
    cluster_kind: str | None,
    use_current: bool,
    context: str | None,
    kubeconfig: Path | None,
    keep_cluster: bool,
    workers: int | None,
    poll: float,
    wait_between: float | None,
    skip: tuple[str, ...],
    dry_run: bool,
    report_file: Path | None,
    junit: Path | None,
    output: str,
    trust_hooks: bool,
) -> int:
    """Run e2e suites (the default subcommand)."""
    kind = _cluster_kind(cluster_kind, use_current, context)
    if target and file:
        raise UsageError("give a file or -f FILE, not both")
    files = _files(target or file, skip)
    suites = [load_suite(path, shown(path)) for path in files]
    if dry_run:
        return _dry_run(suites, output)
    options = Options(
        cluster_kind=kind,
        context=context,
        kubeconfig=kubeconfig,
        keep_cluster=keep_cluster,
        poll=poll,
        workers=workers,
        trust_hooks=trust_hooks,
    )
    result = RunResult()
    started = time.monotonic()
    printer = _Printer(quiet=output != "text")
    for i, suite in enumerate(suites):
        if i and wait_between:
            time.sleep(wait_between)
        result.suites += run(suite, options, printer).suites
    result.seconds = time.monotonic() - started
    _write_reports(result, report_file, junit)
    if output != "text":
        emit(output, report.to_json(result))
    else:
        _summary(result)
    return 0 if result.passed else 1


def _cluster_kind(kind: str | None, use_current: bool, context: str | None) -> str | None:
    if (use_current or context) and kind not in (None, "existing"):
        raise UsageError(
            "--use-current and --cluster run on an existing cluster; drop --cluster-kind"
        )
    if use_current and context:
        raise UsageError("give --use-current or --cluster CONTEXT, not both")
    return "existing" if use_current or context else kind


def _files(target: str | None, skip: tuple[str, ...]) -> list[Path]:
    if target and target.endswith("..."):
        root = Path(target[:-3] or ".")
        found = discover(root, skip, name="e2e.yaml")
        if not found:
            raise UsageError(f"no e2e.yaml below {root}")
        return found
    path = Path(target or "e2e.yaml")
    if path.is_dir():
        path = path / "e2e.yaml"
    if not path.is_file():
        raise UsageError(
            f"{path} not found; name the file with -f FILE, or run 'ork e2e init' to write one"
        )
    return [path]


def _dry_run(suites: list[Suite], output: str) -> int:
    if output != "text":
        emit(
            output,
            {
                "files": [
                    {
                        "file": s.display,
                        "name": s.name,
                        "expectations": len(s.expect),
                        "imports": [i.suite.display for i in s.imports],
                    }
                    for s in suites
                ]
            },
        )
        return 0
    for suite in suites:
        imports = f", {len(suite.imports)} import(s)" if suite.imports else ""
        ok(f"{suite.display}: {suite.name}, {len(suite.expect)} expectation(s){imports}")
    return 0


class _Printer:
    """Prints the run as it goes, in the reference's shape."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.width = 20

    def suite(self, suite: Suite, cluster: Cluster) -> None:
        self.width = max([20, *(len(e.name) for e in suite.expect)])
        self._say(
            f"\nRunning E2E: {style(suite.name, 'bold')}  "
            + style(f"({CLUSTER_LABELS[cluster.kind]})", "dim")
        )
        if cluster.kind == EMBEDDED:
            self._say(
                style(
                    "  no kubelet: workloads are reported ready, as in simulate; "
                    "a weaker proof than a real cluster",
                    "dim",
                )
            )

    def step(self, text: str) -> None:
        self._say(f"→ {text}")

    def done(self, text: str) -> None:
        self._say(f"  {style('✓', 'green')} {text}")

    def expectation(self, result: ExpectationResult) -> None:
        lines = report.expectation_line(result, self.width)
        mark = style("✓", "green") if result.passed else style("✗", "red")
        self._say(mark + lines[0][1:])
        for line in lines[1:]:
            self._say(style(line, "dim") if result.passed else line)

    def _say(self, text: str) -> None:
        if not self.quiet:
            out(text)


def _write_reports(result: RunResult, markdown: Path | None, junit: Path | None) -> None:
    append_report(markdown, report.markdown(result))
    if junit is not None:
        write_text_atomic(junit, report.junit(result))


def _summary(result: RunResult) -> None:
    out()
    for suite in result.suites:
        line = report.suite_line(suite)
        out(
            line.replace("PASS", style("PASS", "green"), 1)
            if suite.passed
            else line.replace("FAIL", style("FAIL", "red"), 1)
        )
    if len(result.suites) > 1:
        failed = [s for s in result.suites if not s.passed]
        out(
            f"\n  {len(result.suites)} suite(s), {len(failed)} failed "
            f"({format_duration(result.seconds)})"
        )


@command.command("init")
@click.argument("directories", nargs=-1, type=click.Path(file_okay=False))
@click.option(
    "-f",
    "--file",
    "file",
    type=click.Path(dir_okay=False),
    help="Katalog or komposer (default: katalog.yaml or komposer.yaml here).",
)
@click.option("--cr", default="cr.yaml", show_default=True, help="The CR to test.")
@click.option("--crd", help="The CRD file [default: crd.yaml next to the katalog, if any].")
@click.option(
    "--suite",
    is_flag=True,
    help="Write an aggregator importing every e2e.yaml below DIRECTORIES (default: .).",
)
@click.option(
    "--wait",
    "wait",
    default="5s",
    show_default=True,
    callback=duration,
    help="With --suite: pause between two imported suites.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing e2e.yaml.")
@click.option("--dry-run", is_flag=True, help="Print instead of writing.")
@click.option(
    "--output-file",
    "output_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write here instead of e2e.yaml (next to the katalog; with --suite, here).",
)
def init(
    directories: tuple[str, ...],
    file: str | None,
    cr: str,
    crd: str | None,
    suite: bool,
    wait: float,
    force: bool,
    dry_run: bool,
    output_file: str | None,
) -> int:
    """Write e2e.yaml: the CR created, its workloads ready, its resources, the cleanup.

    \b
    ork e2e init                  from katalog.yaml and cr.yaml here
    ork e2e init --suite a b      an aggregator importing a/**/e2e.yaml and b/**/e2e.yaml
    """
    if suite:
        target = Path(output_file or TARGET)
        if not dry_run:
            ensure_new(target, force)
        text = scaffold_suite([Path(d) for d in directories or (".",)], target, wait)
    else:
        if directories:
            raise UsageError("directories are for --suite; name the katalog with -f FILE")
        katalog, cr_path, crd_path = find_inputs(file, cr, crd)
        target = Path(output_file) if output_file else katalog.parent / TARGET
        if not dry_run:
            ensure_new(target, force)
        text = scaffold(katalog, cr_path, crd_path, target)
    if dry_run:
        emit_text(text, None)
        return 0
    write_text_atomic(target, text)
    ok(f"Generated {shown(target)}")
    progress("  Review the expectations, then run ork e2e.")
    return 0

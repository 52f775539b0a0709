"""``ork validate``: check pattern files and summarize what they declare."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orkestra.cli import ci
from orkestra.cli.deprecation import deprecation_block
from orkestra.cli.files import append_report, require_files
from orkestra.cli.output import emit, err, fail, ok, out, style, warn
from orkestra.cli.params import format_option, report_file_option, trust_hooks_option
from orkestra.compose import Composed, MotifResolver
from orkestra.files import shown
from orkestra.gates.validate import CrdSummary, FileReport, markdown, validate_file
from orkestra.kubeobjects import JsonDict, as_json
from orkestra.model.errors import Problem
from orkestra.model.formats import RESOURCE_KINDS
from orkestra.model.shapes import CrdEntry
from orkestra.template import LIBRARY

if TYPE_CHECKING:
    from orkestra.plan.rbac import Rule


@click.command("validate")
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Pattern file (repeatable). Default: the katalog.yaml, komposer.yaml, "
    "motif.yaml, simulate.yaml and e2e.yaml found here.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Also show the RBAC the runtime needs, per CRD and for the system, and the start order.",
)
@click.option("--notes", is_flag=True, help="List the template functions available.")
@click.option("--profiles", is_flag=True, help="List the profiles the katalogs define.")
@format_option()
@trust_hooks_option
@report_file_option
def command(
    files: tuple[str, ...],
    full: bool,
    notes: bool,
    profiles: bool,
    output: str,
    trust_hooks: bool,
    report_file: Path | None,
) -> int:
    """Check pattern files: schema, types, references, templates, motif bindings.

    Exits 1 when any file has an error.
    """
    paths = require_files(files)
    resolver = MotifResolver()
    today = datetime.date.today()
    reports = [
        r for p in paths for r in validate_file(p, shown(p), resolver, trust_hooks=trust_hooks)
    ]
    ci.annotate((p for r in reports for p in [*r.errors, *r.warnings]), "ork validate")
    append_report(report_file, markdown(reports))
    if output != "text":
        emit(output, _json(reports, full))
    else:
        for report in reports:
            _print(report, full, today)
        if notes:
            _print_notes(reports)
        if profiles:
            _print_profiles(reports)
    return 0 if all(r.ok for r in reports) else 1


def _print(report: FileReport, full: bool, today: datetime.date) -> None:
    for problem in report.warnings:
        warn(problem.render())
    if not report.ok:
        fail(f"{report.file} is not valid")
        for problem in report.errors:
            err(problem.render())
        return
    if report.deprecation is not None:
        for line in deprecation_block(report.deprecation, today):
            err(line)
    if report.composed is not None:
        _print_crds(report, report.composed, full)
    else:
        title = f"{report.kind.lower()} {report.name} {report.version}".strip()
        ok(f"{report.file}: {title} valid" + (f" ({report.details})" if report.details else ""))


def kind_name(key: str) -> str:
    """``deployments`` -> ``Deployment`` (custom stays ``custom``)."""
    schema = RESOURCE_KINDS.get(key)
    return schema.name if schema is not None and key != "custom" else key


def _scope(summary: CrdSummary) -> str:
    return "Namespaced" if summary.namespaced else "Cluster"


def _print_crds(report: FileReport, composed: Composed, full: bool) -> None:
    for summary in report.crds:
        marker = style("●", "green") if summary.enabled else style("○", "dim")
        disabled = "  (disabled)" if not summary.enabled else ""
        out(f"{marker} {summary.name}{disabled}")
        out(
            f"    kind: {summary.kind} / group: {summary.group or '(core)'} / version: "
            f"{summary.version} / plural: {summary.plural} / scope: {_scope(summary)}"
        )
        out(f"    mode: {summary.mode} / workers: {summary.workers} / resync: {summary.resync}")
        shield = "🛡️  " if summary.protection.startswith("full") else ""
        out(f"    protection: {shield}{summary.protection}")
        for phase, counts in summary.resources.items():
            listed = ", ".join(f"{kind_name(kind)} ×{n}" for kind, n in counts.items())
            out(f"    {phase}: {listed}")
        if summary.hooks:
            out(f"    hooks: {summary.hooks}")
        if summary.depends_on:
            out("    dependsOn: " + ", ".join(f"{k} ({v})" for k, v in summary.depends_on.items()))
        if full:
            _print_crd_rbac(composed.crds[summary.name])
    builtin = sum(s.builtin for s in report.crds)
    count = len(report.crds)
    ok(
        f"{count} CRD{'s' if count != 1 else ''} valid ({builtin} built-in, "
        f"{count - builtin} custom)"
    )
    if full:
        _print_system(composed)


def _rule_lines(rules: list[Rule]) -> list[str]:
    groups = [r.api_group or '""' for r in rules]
    width = max((len(g) for g in groups), default=2)
    res_width = max((len(r.resource) for r in rules), default=8)
    return [
        f"{group:<{width}}  {r.resource:<{res_width}}  " + " ".join(r.as_dict()["verbs"])
        for group, r in zip(groups, rules, strict=True)
    ]


def _print_crd_rbac(entry: CrdEntry) -> None:
    from orkestra.plan.rbac import cluster_scoped_kinds, crd_rules  # --full only

    out("    RBAC (runtime):")
    for line in _rule_lines(crd_rules(entry).sorted()):
        out(f"      {line}")
    cluster = cluster_scoped_kinds(entry)
    if cluster:
        out(
            f"    cluster-scoped objects: {', '.join(cluster)} (labelled "
            "orkestra.io/owner, not garbage-collected)"
        )


def _print_system(composed: Composed) -> None:
    from orkestra.plan.rbac import needs_gateway, system_rules

    out("System RBAC")
    for section, rules in system_rules(composed).items():
        out(f"  {section}:")
        for line in _rule_lines(rules.sorted()):
            out(f"    {line}")
    if not needs_gateway(composed):
        out("  gateway: not needed (no admission webhooks or protection enabled)")
    order = composed.start_order()
    if order:
        out("Start order: " + " → ".join(order))


def _print_notes(reports: list[FileReport]) -> None:
    out("Template functions:")
    out("  " + " ".join(sorted(LIBRARY)))
    for report in reports:
        if report.composed is not None:
            for note in report.composed.notes:
                out(f"  {note.name} (user note): {note.expression}")


def _print_profiles(reports: list[FileReport]) -> None:
    for report in reports:
        if report.composed is None:
            continue
        classes = report.composed.top.get("profiles") or {}
        out(f"Profiles of {report.name}:" + ("" if classes else " (none)"))
        for cls, entries in classes.items():
            if isinstance(entries, list):
                out(f"  {cls}: " + ", ".join(e["name"] for e in entries))


def _problem_json(problem: Problem) -> JsonDict:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "path": ".".join(map(str, problem.path)),
        "message": problem.message,
        "expected": problem.expected,
        "hint": problem.hint,
        "severity": problem.severity,
    }


def _json(reports: list[FileReport], full: bool) -> JsonDict:
    files = []
    for r in reports:
        item: JsonDict = {
            "file": r.file,
            "kind": r.kind,
            "name": r.name,
            "version": r.version,
            "valid": r.ok,
            "details": r.details,
            "crds": [c.as_dict() for c in r.crds],
            "errors": [_problem_json(p) for p in r.errors],
            "warnings": [_problem_json(p) for p in r.warnings],
        }
        if r.deprecation is not None:
            item["deprecation"] = {
                "message": r.deprecation.message,
                "migratedTo": r.deprecation.migrated_to,
                "state": r.deprecation.state(datetime.date.today()),
            }
        if full and r.composed is not None:
            from orkestra.plan.rbac import crd_rules, system_rules

            item["rbac"] = {
                name: [as_json(rule.as_dict()) for rule in crd_rules(e).sorted()]
                for name, e in r.composed.crds.items()
            }
            item["systemRbac"] = {
                s: [as_json(rule.as_dict()) for rule in rules.sorted()]
                for s, rules in system_rules(r.composed).items()
            }
        files.append(item)
    return {"valid": all(r.ok for r in reports), "files": files}

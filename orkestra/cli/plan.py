"""``ork plan``: everything a pattern can create, and what changed between two versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from orkestra.cli.files import append_report
from orkestra.cli.output import emit, out, style
from orkestra.cli.params import (
    format_option,
    report_file_option,
    timeout_option,
    trust_hooks_option,
)
from orkestra.cli.refs import insecure_option
from orkestra.errors import UsageError
from orkestra.kubeobjects import JsonDict, as_json
from orkestra.plan.objects import PlannedObject
from orkestra.plan.source import PlanSource, from_bundle, from_cluster, load
from orkestra.plan.summary import NOT_PROVEN, diff_markdown, plan_markdown
from orkestra.registry.client import RegistryClient

if TYPE_CHECKING:
    from orkestra.plan.diff import ObjectChange, PlanDiff
    from orkestra.plan.risks import Finding

_MARK = {"added": "+", "removed": "-", "changed": "~"}
_SEVERITY_COLOR = {"high": "red", "medium": "yellow", "low": "dim"}


@click.command("plan")
@click.argument("source", required=False, metavar="[SOURCE]")
@click.option("-f", "--file", "file", help="Same as SOURCE (the original's spelling).")
@click.option(
    "--against",
    metavar="SOURCE",
    help="The version to compare with: a directory, file, registry reference or bundle.",
)
@click.option(
    "-b",
    "--bundle",
    type=click.Path(dir_okay=False, exists=True),
    help="Compare with the katalog a bundle deploys.",
)
@click.option(
    "--cm",
    metavar="NAME",
    help="Compare with the deployed katalog ConfigMap "
    "(read with kubectl; NAME.yaml reads a local file).",
)
@click.option(
    "-n", "--namespace", default="orkestra-system", show_default=True, help="Namespace of --cm."
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when there is a risk finding.")
@insecure_option
@timeout_option
@format_option()
@trust_hooks_option
@report_file_option
def command(
    source: str | None,
    file: str | None,
    against: str | None,
    bundle: str | None,
    cm: str | None,
    namespace: str,
    exit_code: bool,
    insecure: bool,
    timeout: float | None,
    output: str,
    trust_hooks: bool,
    report_file: Path | None,
) -> int:
    """Show every object a pattern can create, per CRD and phase, marking what no simulate
    assertion covers; with --against, the diff and the risk findings.

    \b
    SOURCE: a pattern directory (default: here), a katalog or komposer file, a registry
    reference (webapp-operator:v1.1.0), or a bundle.
    """
    if source and file:
        raise UsageError("give SOURCE or -f FILE, not both")
    if sum(x is not None for x in (against, bundle, cm)) > 1:
        raise UsageError("compare with one of --against, --bundle or --cm")
    client = RegistryClient(insecure=insecure, timeout=timeout)
    new = load(source or file or ".", client, trust_hooks=trust_hooks)
    old = (
        load(against, client, with_proof=False)
        if against
        else from_bundle(Path(bundle))
        if bundle
        else from_cluster(cm, namespace)
        if cm
        else None
    )
    if old is None:
        append_report(report_file, plan_markdown(new))
        _print_or_emit_plan(new, output)
        return 0
    from orkestra.plan.diff import compare  # the diff and its risks: only with two versions
    from orkestra.plan.risks import findings

    diff = compare(old.inventory, new.inventory)
    found = findings(diff)
    append_report(report_file, diff_markdown(old, new, diff, found))
    if output != "text":
        emit(output, _diff_json(old, new, diff, found))
    else:
        _print_diff(old, new, diff, found)
    return 1 if exit_code and found else 0


# -- one version ----------------------------------------------------------------------------


def _print_or_emit_plan(source: PlanSource, output: str) -> None:
    if output != "text":
        emit(output, _plan_json(source))
        return
    inv = source.inventory
    out(style(f"Plan: {inv.name} {inv.version}".rstrip(), "bold") + f"  ({source.label})")
    if source.digest:
        out(f"  Digest: {source.digest}")
    _print_proof_line(source)
    unproven = cluster = total = 0
    for crd in inv.crds:
        out()
        scope = "namespaced" if crd.namespaced else "cluster-scoped"
        state = "" if crd.enabled else "  (disabled)"
        out(f"CRD {crd.name} — {crd.kind}.{crd.group} ({', '.join(crd.versions)}), {scope}{state}")
        for phase in ("onCreate", "onReconcile", "onDelete"):
            objects = [o for o in crd.objects if o.phase == phase]
            if objects:
                out(f"  {phase}")
            for obj in objects:
                proven = source.proof.covers(obj)
                unproven += not proven
                cluster += obj.cluster_scoped
                total += 1
                for line in _object_lines(obj, "+", proven, source):
                    out(line)
        if crd.hook_kinds:
            out(f"  hooks (typed code) manage: {', '.join(crd.hook_kinds)}")
        out(
            f"  status: {crd.status_fields} field(s) · validation: "
            f"{len(crd.validation_rules)} rule(s) · mutation: {crd.mutation_rules} rule(s)"
            + (f" · webhooks: {', '.join(crd.webhooks)}" if crd.webhooks else "")
        )
    out()
    out(
        f"{total} object declaration(s), {cluster} cluster-scoped, "
        + (style(f"{unproven} {NOT_PROVEN}", "yellow") if unproven else "all in the author's proof")
    )


def _print_proof_line(source: PlanSource) -> None:
    proof = source.proof
    if proof.files:
        out(f"  Proof: {proof.files[0]}")
        for name in proof.files[1:]:
            out(f"         {name}")
    else:
        out("  Proof: none (no simulate.yaml beside the katalogs)")
    for problem in proof.problems:
        out(style(f"  ⚠ {problem}", "yellow"))


def _object_lines(
    obj: PlannedObject, mark: str, proven: bool, source: PlanSource | None
) -> list[str]:
    flag = "" if proven or source is None else "  " + style(f"⚠ {NOT_PROVEN}", "yellow")
    lines = [f"    {mark} {obj.kind:<20} {obj.name:<36} {obj.scope}{flag}"]
    lines += [f"        when {c}" for c in obj.conditions]
    if obj.role_ref:
        lines.append(f"        roleRef: {obj.role_ref.get('kind')} {obj.role_ref.get('name')}")
    for subject in obj.subjects:
        namespace = f"{subject['namespace']}/" if subject.get("namespace") else ""
        lines.append(f"        subject: {subject.get('kind')} {namespace}{subject.get('name')}")
    for rule in obj.rules:
        groups = ",".join(rule.get("apiGroups") or ["core"]) or "core"
        targets = ",".join(rule.get("resources") or rule.get("nonResourceURLs") or [])
        lines.append(f"        rule: {groups}: {targets} [{', '.join(rule.get('verbs') or [])}]")
    return lines


def _object_json(obj: PlannedObject, source: PlanSource | None) -> JsonDict:
    out_: JsonDict = {
        "crd": obj.crd,
        "phase": obj.phase,
        "declaration": obj.declaration_id,
        "apiVersion": obj.api_version,
        "kind": obj.kind,
        "name": obj.name,
        "scope": obj.scope,
        "conditions": list(obj.conditions),
    }
    if obj.rules:
        out_["rules"] = [as_json(rule) for rule in obj.rules]
    if obj.role_ref:
        out_["roleRef"] = as_json(obj.role_ref)
        out_["subjects"] = [as_json(subject) for subject in obj.subjects]
    if source is not None:
        out_["inProof"] = source.proof.covers(obj)
    return out_


def _plan_json(source: PlanSource) -> JsonDict:
    inv = source.inventory
    return {
        "pattern": {
            "name": inv.name,
            "version": inv.version,
            "source": source.label,
            "digest": source.digest,
        },
        "proof": {"files": source.proof.files, "problems": source.proof.problems},
        "crds": [
            {
                "name": c.name,
                "kind": c.kind,
                "group": c.group,
                "versions": list(c.versions),
                "namespaced": c.namespaced,
                "enabled": c.enabled,
                "hookKinds": list(c.hook_kinds),
                "validationRules": list(c.validation_rules),
                "mutationRules": c.mutation_rules,
                "webhooks": list(c.webhooks),
                "objects": [_object_json(o, source) for o in c.objects],
            }
            for c in inv.crds
        ],
    }


# -- two versions ---------------------------------------------------------------------------


def _print_diff(old: PlanSource, new: PlanSource, diff: PlanDiff, found: list[Finding]) -> None:
    out(
        style(
            f"Plan: {old.inventory.name} {old.inventory.version} → "
            f"{new.inventory.name} {new.inventory.version}",
            "bold",
        )
    )
    out(f"  from: {old.label}" + (f" ({old.digest[:19]})" if old.digest else ""))
    out(f"  to:   {new.label}" + (f" ({new.digest[:19]})" if new.digest else ""))
    _print_proof_line(new)
    if diff.empty:
        out()
        out("No changes.")
    for crd in diff.crds:
        out()
        out(f"{_MARK[crd.change]} CRD {crd.name}  ({crd.change})")
        for detail in crd.details:
            out(f"    {detail}")
    if diff.objects:
        out()
        out("Objects:")
    group = None
    for change in diff.objects:
        if (change.obj.crd, change.obj.phase) != group:
            group = (change.obj.crd, change.obj.phase)
            out(f"  {change.obj.crd} {change.obj.phase}")
        for line in _change_lines(change, new):
            out(line)
    out()
    if not found:
        out(style("No risk findings.", "green"))
        return
    out(style(f"Risk findings ({len(found)}):", "bold"))
    for finding in found:
        label = style(f"{finding.severity.upper():<6}", _SEVERITY_COLOR[finding.severity])
        where = f"{finding.crd}: " if finding.crd else ""
        proof = (
            ""
            if finding.obj is None or new.proof.covers(finding.obj)
            else "  " + style(f"⚠ {NOT_PROVEN}", "yellow")
        )
        out(f"  {label} {finding.rule:<26} {where}{finding.message}{proof}")


def _change_lines(change: ObjectChange, new: PlanSource) -> list[str]:
    obj = change.obj
    proven = change.change == "removed" or new.proof.covers(obj)
    lines = _object_lines(obj, _MARK[change.change], proven, new)
    lines += [f"        {line}" for line in change.diff]
    return lines


def _diff_json(old: PlanSource, new: PlanSource, diff: PlanDiff, found: list[Finding]) -> JsonDict:
    return {
        "from": {
            "source": old.label,
            "name": old.inventory.name,
            "version": old.inventory.version,
            "digest": old.digest,
        },
        "to": {
            "source": new.label,
            "name": new.inventory.name,
            "version": new.inventory.version,
            "digest": new.digest,
        },
        "crds": [
            {"name": c.name, "change": c.change, "details": list(c.details)} for c in diff.crds
        ],
        "objects": [
            {
                "change": c.change,
                **_object_json(c.obj, new if c.change != "removed" else None),
                "diff": list(c.diff),
            }
            for c in diff.objects
        ],
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "crd": f.crd,
                "message": f.message,
                "inProof": None if f.obj is None else new.proof.covers(f.obj),
            }
            for f in found
        ],
    }

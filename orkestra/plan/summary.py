"""``ork plan`` as Markdown for CI job summaries: the objects a pattern can create, marked
when no simulate assertion covers them, or the risk findings between two versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orkestra import markdown as md
from orkestra.plan.source import PlanSource

if TYPE_CHECKING:
    from orkestra.plan.diff import PlanDiff
    from orkestra.plan.risks import Finding

NOT_PROVEN = "not in the author's proof"


def plan_markdown(source: PlanSource) -> str:
    inv = source.inventory
    rows = [
        [
            crd.name,
            obj.phase,
            obj.kind,
            obj.name,
            "cluster" if obj.cluster_scoped else "namespaced",
            "✓" if source.proof.covers(obj) else f"⚠ {NOT_PROVEN}",
        ]
        for crd in inv.crds
        for obj in crd.objects
    ]
    unproven = sum(not r[-1].startswith("✓") for r in rows)
    lines = [
        f"## ork plan: {md.text(f'{inv.name} {inv.version}'.strip())}",
        "",
        f"{md.plural(len(rows), 'object declaration')}, "
        f"{sum(r[4] == 'cluster' for r in rows)} cluster-scoped, "
        + (f"**{unproven} {NOT_PROVEN}**" if unproven else "all in the author's proof"),
        "",
        *md.table(["CRD", "Phase", "Kind", "Name", "Scope", "Proof"], rows),
        "",
    ]
    hooks = [
        f"- {crd.name}: hooks (typed code) manage {', '.join(crd.hook_kinds)}"
        for crd in inv.crds
        if crd.hook_kinds
    ]
    return "\n".join(lines + hooks + ([""] if hooks else []))


def diff_markdown(old: PlanSource, new: PlanSource, diff: PlanDiff, found: list[Finding]) -> str:
    head = f"{old.inventory.name} {old.inventory.version} → {new.inventory.version}"
    changes = [[c.change, c.obj.crd, c.obj.phase, c.obj.kind, c.obj.name] for c in diff.objects]
    lines = [f"## ork plan: {md.text(head)}", ""]
    lines += (
        [*md.table(["Change", "CRD", "Phase", "Kind", "Name"], changes), ""]
        if changes
        else ["No changes.", ""]
    )
    if found:
        lines += [
            *md.table(
                ["Severity", "Rule", "CRD", "Finding"],
                [[f.severity.upper(), f.rule, f.crd, f.message] for f in found],
            ),
            "",
        ]
    else:
        lines += ["No risk findings.", ""]
    return "\n".join(lines)

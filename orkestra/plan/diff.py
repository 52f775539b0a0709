"""Two versions of a pattern side by side: which CRDs and objects were added, removed or
changed, with a unified diff of each changed declaration."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from orkestra import yamltext
from orkestra.plan.objects import CrdPlan, Inventory, PlannedObject


@dataclass(frozen=True)
class ObjectChange:
    change: str  # added | removed | changed
    old: PlannedObject | None
    new: PlannedObject | None
    diff: tuple[str, ...] = ()

    @property
    def obj(self) -> PlannedObject:
        found = self.new or self.old
        assert found is not None
        return found


@dataclass(frozen=True)
class CrdChange:
    name: str
    change: str  # added | removed | changed
    details: tuple[str, ...] = ()


@dataclass
class PlanDiff:
    old: Inventory
    new: Inventory
    crds: list[CrdChange] = field(default_factory=list)
    objects: list[ObjectChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.crds and not self.objects


def compare(old: Inventory, new: Inventory) -> PlanDiff:
    result = PlanDiff(old, new)
    old_crds = {c.name: c for c in old.crds}
    new_crds = {c.name: c for c in new.crds}
    for name in new_crds.keys() - old_crds.keys():
        result.crds.append(CrdChange(name, "added"))
    for name in old_crds.keys() - new_crds.keys():
        result.crds.append(CrdChange(name, "removed"))
    for name in old_crds.keys() & new_crds.keys():
        details = _crd_details(old_crds[name], new_crds[name])
        if details:
            result.crds.append(CrdChange(name, "changed", details))
    result.crds.sort(key=lambda c: c.name)
    result.objects = _object_changes(old, new, old.version or "old", new.version or "new")
    return result


def _object_changes(
    old: Inventory, new: Inventory, old_label: str, new_label: str
) -> list[ObjectChange]:
    before = {o.identity: o for o in old.objects()}
    after = {o.identity: o for o in new.objects()}
    changes = [ObjectChange("added", None, after[i]) for i in after.keys() - before.keys()]
    changes += [ObjectChange("removed", before[i], None) for i in before.keys() - after.keys()]
    for identity in before.keys() & after.keys():
        a, b = before[identity], after[identity]
        if a.declaration != b.declaration:
            changes.append(ObjectChange("changed", a, b, unified(a, b, old_label, new_label)))
    return sorted(changes, key=lambda c: (c.obj.crd, c.obj.phase, c.obj.kind, c.obj.name))


def unified(a: PlannedObject, b: PlannedObject, old_label: str, new_label: str) -> tuple[str, ...]:
    where = f"{a.crd} {a.phase}/{a.key}"
    return tuple(
        line.rstrip("\n")
        for line in difflib.unified_diff(
            _yaml(a), _yaml(b), f"{where} ({old_label})", f"{where} ({new_label})", n=2
        )
    )


def _yaml(obj: PlannedObject) -> list[str]:
    text = yamltext.safe(
        obj.declaration, sort_keys=True, default_flow_style=False, allow_unicode=True, width=1 << 16
    )
    return text.splitlines(keepends=True)


def _crd_details(old: CrdPlan, new: CrdPlan) -> tuple[str, ...]:
    details = []
    for key in ("workers", "resync", "queue", "requeue", "default"):
        a, b = old.tuning.get(key), new.tuning.get(key)
        if a != b:
            details.append(f"{key}: {_text(a)} → {_text(b)}")
    for label, a, b in (
        ("kind", old.kind, new.kind),
        ("group", old.group, new.group),
        ("scope", _scope(old), _scope(new)),
        ("versions", ", ".join(old.versions), ", ".join(new.versions)),
        ("enabled", str(old.enabled), str(new.enabled)),
        ("status fields", str(old.status_fields), str(new.status_fields)),
        ("validation rules", str(len(old.validation_rules)), str(len(new.validation_rules))),
        ("mutation rules", str(old.mutation_rules), str(new.mutation_rules)),
        ("webhooks", ", ".join(old.webhooks) or "none", ", ".join(new.webhooks) or "none"),
        ("hook kinds", ", ".join(old.hook_kinds) or "none", ", ".join(new.hook_kinds) or "none"),
    ):
        if a != b:
            details.append(f"{label}: {a} → {b}")
    if (old.manifest or {}).get("spec") != (new.manifest or {}).get("spec"):
        details.append("CRD schema (crd.yaml) changed")
    return tuple(details)


def _text(value: object) -> str:
    if value is None:
        return "(default)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


def _scope(crd: CrdPlan) -> str:
    return "Namespaced" if crd.namespaced else "Cluster"

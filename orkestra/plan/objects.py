"""Everything a composed pattern can create, statically: the plan's inventory.

For each CRD and phase (``onCreate``, ``onReconcile``, ``onDelete``, and the kinds typed
hooks manage) every declaration becomes a :class:`PlannedObject`: its kind, its name
template (or the default name the engine gives it), its scope, the conditions that gate it
and, for RBAC objects, the rules and bindings it carries. A declaration that makes an object
of another kind as well (an Ingress with ``tls.create`` makes its TLS Secret) also yields
that object, marked ``implied``. Nothing is rendered: a plan is about what *can* happen for
any CR, not for one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from orkestra.cluster.resources import BUILTIN_TYPES, plural_of
from orkestra.compose.composed import Composed
from orkestra.engine.build.base import KINDS, default_name
from orkestra.engine.conditions import SHORTHAND_OPERATORS
from orkestra.kubeobjects import JsonObject, KubeObject, PolicyRule, RoleRef, Subject
from orkestra.model.shapes import CodeRef, CrdEntry, Declaration, ReconcileBlock, ValidationRule

Phase = Literal["onCreate", "onReconcile", "onDelete"]
PHASES: tuple[Phase, ...] = ("onCreate", "onReconcile", "onDelete")
CR_NAME = "{{ .metadata.name }}"
# Cluster-scoped kinds a ``custom`` declaration may name: the in-memory cluster's built-in
# types, plus common ones it does not serve.
_CLUSTER_KINDS = {t.kind for t in BUILTIN_TYPES if not t.namespaced} | {
    "StorageClass",
    "PriorityClass",
    "APIService",
    "ClusterIssuer",
}


@dataclass(frozen=True, kw_only=True)
class PlannedObject:
    """One declaration of one CRD, in one phase."""

    crd: str
    phase: str
    key: str
    index: int
    api_version: str
    kind: str
    name: str
    cluster_scoped: bool
    conditions: tuple[str, ...]
    declaration: Declaration = field(compare=False, hash=False)
    implied: bool = False  # made by a declaration of another kind (the engine reads it live)

    @property
    def declaration_id(self) -> str:
        """The id the engine stamps on what it builds (``onReconcile/services/0``)."""
        return f"{self.phase}/{self.key}/{self.index}"

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What makes "the same object" across two versions of a pattern."""
        return (self.crd, self.phase, self.kind, self.name)

    @property
    def resource(self) -> str:
        """The plural resource name, as simulate assertions spell it."""
        return plural_of(self.kind)

    @property
    def scope(self) -> str:
        return "cluster" if self.cluster_scoped else "namespaced"

    @property
    def rules(self) -> list[PolicyRule]:
        return list(self.declaration.get("rules") or [])

    @property
    def role_ref(self) -> RoleRef:
        ref = self.declaration.get("roleRef")
        return ref.copy() if ref else RoleRef()

    @property
    def subjects(self) -> list[Subject]:
        return list(self.declaration.get("subjects") or [])


@dataclass(kw_only=True)
class CrdPlan:
    name: str
    kind: str
    group: str
    versions: tuple[str, ...]
    namespaced: bool
    enabled: bool
    objects: list[PlannedObject]
    hook_kinds: tuple[str, ...]
    status_fields: int
    validation_rules: tuple[str, ...]
    mutation_rules: int
    webhooks: tuple[str, ...]
    manifest: KubeObject | None
    tuning: dict[str, object] = field(default_factory=dict)  # workers, resync, queue …


@dataclass
class Inventory:
    """A composed pattern as a plan sees it."""

    name: str
    version: str
    crds: list[CrdPlan]
    webhooks: bool

    def objects(self) -> list[PlannedObject]:
        return [o for crd in self.crds for o in crd.objects]

    def crd(self, name: str) -> CrdPlan | None:
        return next((c for c in self.crds if c.name == name), None)


def inventory(composed: Composed) -> Inventory:
    webhooks = bool(security(composed, "webhooks", "admission", "enabled"))
    crds = [
        _crd_plan(name, entry, composed.crd_manifests.get(name))
        for name, entry in composed.crds.items()
    ]
    return Inventory(composed.name, composed.version, crds, webhooks)


def security(composed: Composed, *path: str) -> object:
    """The value at ``path`` in the ``security`` block (None when a step is missing)."""
    node: object = composed.top.get("security")
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def code_blocks(reconcile: ReconcileBlock) -> list[tuple[str, CodeRef]]:
    """The typed code a reconcile block names: (``hooks`` or ``constructor``, its reference)."""
    blocks: list[tuple[str, CodeRef | None]] = [
        ("hooks", reconcile.get("hooks")),
        ("constructor", reconcile.get("constructor")),
    ]
    return [(block, ref) for block, ref in blocks if ref]


def crd_versions(manifest: KubeObject) -> list[JsonObject]:
    """The ``spec.versions`` entries of a CustomResourceDefinition manifest."""
    versions = (manifest.get("spec") or {}).get("versions")
    return [v for v in versions if isinstance(v, Mapping)] if isinstance(versions, list) else []


def _crd_plan(name: str, entry: CrdEntry, manifest: KubeObject | None) -> CrdPlan:
    api = entry.get("apiTypes") or {}
    box = entry.get("operatorBox") or {}
    reconcile = box.get("reconcile") or {}
    objects = declarations(name, entry)
    hook_kinds = tuple(
        str(r.get("kind")) for _, ref in code_blocks(reconcile) for r in ref.get("resources") or []
    )
    validation = (entry.get("validation") or {}).get("rules") or []
    webhooks = entry.get("webhooks") or {}
    status = ((box.get("emit") or {}).get("status") or {}).get("fields") or []
    versions = tuple(
        str(v.get("name")) for v in (crd_versions(manifest) if manifest is not None else [])
    ) or (str(api.get("version", "")),)
    return CrdPlan(
        name=name,
        kind=str(api.get("kind", "")),
        group=str(api.get("group", "")),
        versions=versions,
        namespaced=entry.get("namespaced", True) is not False,
        enabled=entry.get("enabled", True) is not False,
        objects=objects,
        hook_kinds=hook_kinds,
        status_fields=len(status),
        validation_rules=tuple(_rule_text(r) for r in validation),
        mutation_rules=len((entry.get("mutation") or {}).get("rules") or []),
        webhooks=tuple(k for k in ("validation", "mutation") if webhooks.get(k)),
        manifest=manifest,
        tuning={
            k: v
            for k, v in reconcile.items()
            if k not in PHASES and k not in ("hooks", "constructor")
        },
    )


def declarations(crd: str, entry: CrdEntry) -> list[PlannedObject]:
    """Every object one CRD entry can create, per phase, in declaration order (an implied
    object right after the declaration that makes it)."""
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    return [
        obj
        for phase in PHASES
        for key, items in (reconcile.get(phase) or {}).items()
        for i, item in enumerate(items or [])
        for obj in (_planned(crd, phase, key, i, item), *_implied(crd, phase, key, i, item))
    ]


def _implied(crd: str, phase: str, key: str, index: int, item: Declaration) -> list[PlannedObject]:
    """Objects of another kind a declaration makes: an Ingress's ``tls.create`` Secret."""
    tls = item.get("tls")
    if (
        key != "ingresses"
        or not isinstance(tls, dict)
        or tls.get("create") in (None, False, "", "false")
    ):
        return []
    create = tls["create"]
    name = str(tls.get("secretName") or f"{item.get('name') or default_name(key, CR_NAME)}-tls")
    return [
        PlannedObject(
            crd=crd,
            phase=phase,
            key=key,
            index=index,
            api_version="v1",
            kind="Secret",
            name=name,
            cluster_scoped=False,
            conditions=(*conditions(item), f"tls.create {create}"),
            declaration=item,
            implied=True,
        )
    ]


def _planned(crd: str, phase: str, key: str, index: int, item: Declaration) -> PlannedObject:
    if key == "custom":
        api_version, kind = str(item.get("apiVersion", "")), str(item.get("kind", ""))
        cluster = kind in _CLUSTER_KINDS
    else:
        api_version, kind, cluster = KINDS[key]
    name = str(item.get("name") or default_name(key, CR_NAME))
    return PlannedObject(
        crd=crd,
        phase=phase,
        key=key,
        index=index,
        api_version=api_version,
        kind=kind,
        name=name,
        cluster_scoped=cluster,
        conditions=conditions(item),
        declaration=item,
    )


def conditions(item: Declaration) -> tuple[str, ...]:
    """The gates of a declaration, in words: ``{{ .spec.host }} exists``, ``for each …``."""
    out = [describe(c) for c in item.get("when") or []]
    alternatives = [describe(c) for c in item.get("or") or []]
    if alternatives:
        out.append("any of: " + "; ".join(alternatives))
    for_each = item.get("forEach")
    if isinstance(for_each, dict):
        out.append(f"for each item of {for_each.get('field')}")
    return tuple(out)


def describe(cond: Mapping[str, object]) -> str:
    """A condition in words (a ``when`` item, a validation rule)."""
    subject = str(cond.get("field", ""))
    for key in ("time", "dayOfWeek", "cron"):
        if key in cond:
            return f"{key} {cond[key]}"
    if "operator" in cond:
        op, value = str(cond["operator"]), cond.get("value")
    else:
        op, value = next(((k, cond[k]) for k in SHORTHAND_OPERATORS if k in cond), ("", None))
    text = f"{subject} {op}".strip()
    if op not in ("exists", "notExists") and value is not None:
        text += f" {value}"
    return ("not " + text) if cond.get("negate") else text


def _rule_text(rule: ValidationRule) -> str:
    """A validation rule in words: its condition, and its message when it has one."""
    text = describe(rule) if "field" in rule else "(time window)"
    action = rule.get("action", "deny")
    return f"{action}: {text}" + (f" — {rule['message']}" if rule.get("message") else "")

"""Risk findings between two versions of a pattern: what a consumer must look at before
upgrading, whatever the author's assertions say.

Each rule looks at the plan diff and reports :class:`Finding` values with a severity:
``high`` (cluster-admin bindings, RBAC wildcards and escalate/bind/impersonate, webhook
configurations, CRD changes that break stored objects, a CRD turning cluster-scoped),
``medium`` (new cluster roles and bindings, RBAC widening, new cluster-scoped objects,
admission webhooks switched on, validation rules removed, typed hooks added) and ``low``
(new kinds, new roles). Adding findings is a matter of adding a rule function to
:data:`RULES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from orkestra.kubeobjects import Json, JsonObject, KubeObject, PolicyRule, Subject
from orkestra.plan.diff import PlanDiff
from orkestra.plan.objects import CrdPlan, PlannedObject, crd_versions

SEVERITIES = ("high", "medium", "low")
_RBAC_KINDS = ("Role", "ClusterRole")
_BINDINGS = ("RoleBinding", "ClusterRoleBinding")
_DANGEROUS_VERBS = ("escalate", "bind", "impersonate")
_POWERFUL_ROLES = ("cluster-admin",)
_WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
_COUNTERPARTS = {"ClusterRole": "Role", "ClusterRoleBinding": "RoleBinding"}


@dataclass(frozen=True, kw_only=True)
class Finding:
    rule: str
    severity: str
    crd: str
    message: str
    obj: PlannedObject | None = None


Rule = Callable[[PlanDiff], Iterator[Finding]]


def findings(diff: PlanDiff) -> list[Finding]:
    found = [f for rule in RULES for f in rule(diff)]
    return sorted(found, key=lambda f: (SEVERITIES.index(f.severity), f.crd, f.rule, f.message))


def _added(diff: PlanDiff) -> list[PlannedObject]:
    return [c.new for c in diff.objects if c.change == "added" and c.new is not None]


def _changed(diff: PlanDiff) -> list[tuple[PlannedObject, PlannedObject]]:
    return [
        (c.old, c.new)
        for c in diff.objects
        if c.change == "changed" and c.old is not None and c.new is not None
    ]


def _label(obj: PlannedObject) -> str:
    return f"{obj.kind} {obj.name} ({obj.phase})"


# -- object rules -------------------------------------------------------------------------


def new_kinds(diff: PlanDiff) -> Iterator[Finding]:
    before = {o.kind for o in diff.old.objects()}
    reported: set[str] = set()
    for obj in _added(diff):
        if obj.kind not in before and obj.kind not in reported:
            reported.add(obj.kind)
            yield Finding(
                rule="new-kind",
                severity="low",
                crd=obj.crd,
                message=f"creates a kind the previous version never created: {obj.kind}",
                obj=obj,
            )


def cluster_scope(diff: PlanDiff) -> Iterator[Finding]:
    before = {(o.crd, o.kind, o.name) for o in diff.old.objects()}
    for obj in _added(diff):
        if not obj.cluster_scoped:
            continue
        counterpart = _COUNTERPARTS.get(obj.kind)
        if counterpart and (obj.crd, counterpart, obj.name) in before:
            yield Finding(
                rule="namespaced-to-cluster",
                severity="high",
                crd=obj.crd,
                message=f"{counterpart} {obj.name} became a {obj.kind}: its permissions now "
                "apply to every namespace",
                obj=obj,
            )
        elif obj.kind not in ("ClusterRole", "ClusterRoleBinding"):
            yield Finding(
                rule="new-cluster-object",
                severity="medium",
                crd=obj.crd,
                message=f"creates a cluster-scoped {_label(obj)}",
                obj=obj,
            )


def new_rbac_objects(diff: PlanDiff) -> Iterator[Finding]:
    severity = {
        "ClusterRoleBinding": "medium",
        "ClusterRole": "medium",
        "RoleBinding": "medium",
        "Role": "low",
    }
    for obj in _added(diff):
        if obj.kind in severity:
            yield Finding(
                rule=f"new-{_kebab(obj.kind)}",
                severity=severity[obj.kind],
                crd=obj.crd,
                message=f"creates a new {_label(obj)}",
                obj=obj,
            )


def rbac_widening(diff: PlanDiff) -> Iterator[Finding]:
    for old, new in _changed(diff):
        if new.kind not in _RBAC_KINDS:
            continue
        gained = _grants(new.rules) - _grants(old.rules)
        if gained:
            yield Finding(
                rule="rbac-widening",
                severity="medium",
                crd=new.crd,
                message=f"{_label(new)} gains {_describe(gained)}",
                obj=new,
            )
        yield from _dangerous(new, gained, "gains")
    for obj in _added(diff):
        if obj.kind in _RBAC_KINDS:
            yield from _dangerous(obj, _grants(obj.rules), "grants")


def _dangerous(
    obj: PlannedObject, grants: set[tuple[str, str, str]], verb: str
) -> Iterator[Finding]:
    wildcards = {g for g in grants if "*" in g}
    if wildcards:
        yield Finding(
            rule="rbac-wildcard",
            severity="high",
            crd=obj.crd,
            message=f"{_label(obj)} {verb} wildcard access: {_describe(wildcards)}",
            obj=obj,
        )
    dangerous = {g for g in grants if g[2] in _DANGEROUS_VERBS}
    if dangerous:
        yield Finding(
            rule="rbac-escalation",
            severity="high",
            crd=obj.crd,
            message=f"{_label(obj)} {verb} {_describe(dangerous)} (privilege escalation)",
            obj=obj,
        )


def _grants(rules: list[PolicyRule]) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) triples a list of PolicyRules grants."""
    out = set()
    for rule in rules:
        groups = rule.get("apiGroups") or ([""] if not rule.get("nonResourceURLs") else [])
        resources = rule.get("resources") or rule.get("nonResourceURLs") or []
        for group in groups or [""]:
            for resource in resources:
                for verb in rule.get("verbs") or []:
                    out.add((str(group), str(resource), str(verb)))
    return out


def _describe(grants: set[tuple[str, str, str]]) -> str:
    by_target: dict[str, list[str]] = {}
    for group, resource, verb in sorted(grants):
        by_target.setdefault(f"{group or 'core'}/{resource}", []).append(verb)
    return "; ".join(f"{t} [{', '.join(v)}]" for t, v in by_target.items())


def powerful_bindings(diff: PlanDiff) -> Iterator[Finding]:
    candidates = _added(diff) + [new for old, new in _changed(diff) if old.role_ref != new.role_ref]
    for obj in candidates:
        if obj.kind in _BINDINGS and obj.role_ref.get("name") in _POWERFUL_ROLES:
            yield Finding(
                rule="binds-cluster-admin",
                severity="high",
                crd=obj.crd,
                message=f"{_label(obj)} binds {obj.role_ref.get('kind')} "
                f"{obj.role_ref.get('name')} to "
                f"{_subjects(obj) or 'its subjects'}",
                obj=obj,
            )


def _subjects(obj: PlannedObject) -> str:
    def one(subject: Subject) -> str:
        namespace = f"{subject['namespace']}/" if subject.get("namespace") else ""
        return f"{subject.get('kind')} {namespace}{subject.get('name')}"

    return ", ".join(one(s) for s in obj.subjects)


def webhook_objects(diff: PlanDiff) -> Iterator[Finding]:
    for obj in _added(diff):
        if obj.kind in _WEBHOOK_KINDS:
            yield Finding(
                rule="new-webhook-configuration",
                severity="high",
                crd=obj.crd,
                message=(
                    f"creates a {obj.kind} ({obj.name}): it intercepts API requests cluster-wide"
                ),
                obj=obj,
            )


# -- CRD rules ----------------------------------------------------------------------------


def _crd_pairs(diff: PlanDiff) -> Iterator[tuple[CrdPlan, CrdPlan]]:
    for new in diff.new.crds:
        old = diff.old.crd(new.name)
        if old is not None:
            yield old, new


def crd_scope(diff: PlanDiff) -> Iterator[Finding]:
    for old, new in _crd_pairs(diff):
        if old.namespaced and not new.namespaced:
            yield Finding(
                rule="crd-namespaced-to-cluster",
                severity="high",
                crd=new.name,
                message=f"CRD {new.kind} changes from Namespaced to Cluster scope: existing "
                "CRs cannot be served",
            )


def admission_changes(diff: PlanDiff) -> Iterator[Finding]:
    if diff.new.webhooks and not diff.old.webhooks:
        yield Finding(
            rule="new-admission-webhooks",
            severity="medium",
            crd="",
            message="admission webhooks are switched on (security.webhooks.admission)",
        )
    for old, new in _crd_pairs(diff):
        for hook in set(new.webhooks) - set(old.webhooks):
            yield Finding(
                rule="new-admission-webhooks",
                severity="medium",
                crd=new.name,
                message=f"a {hook} webhook is switched on for {new.kind}",
            )
        for rule in sorted(set(old.validation_rules) - set(new.validation_rules)):
            yield Finding(
                rule="removed-validation",
                severity="medium",
                crd=new.name,
                message=f"validation rule removed: {rule}",
            )
        added_hooks = set(new.hook_kinds) - set(old.hook_kinds)
        if added_hooks:
            yield Finding(
                rule="new-hooks",
                severity="medium",
                crd=new.name,
                message="typed hooks now manage "
                + ", ".join(sorted(added_hooks))
                + " (code, not declarations)",
            )


def crd_schema(diff: PlanDiff) -> Iterator[Finding]:
    for old, new in _crd_pairs(diff):
        if old.manifest is None or new.manifest is None:
            continue
        before, after = _versions(old.manifest), _versions(new.manifest)
        for version in sorted(before.keys() - after.keys()):
            yield Finding(
                rule="crd-removed-version",
                severity="high",
                crd=new.name,
                message=f"CRD version {version} is no longer served: objects stored as "
                f"{version} cannot be read",
            )
        for version in sorted(before.keys() & after.keys()):
            for rule, severity, message in schema_changes(before[version], after[version]):
                yield Finding(
                    rule=rule, severity=severity, crd=new.name, message=f"{version}: {message}"
                )


def _versions(manifest: KubeObject) -> dict[str, JsonObject]:
    """Served version name -> its ``openAPIV3Schema``."""
    out = {}
    for version in crd_versions(manifest):
        if version.get("served", True):
            schema = _object(version.get("schema"))
            out[str(version.get("name"))] = _object(schema.get("openAPIV3Schema"))
    return out


def _object(value: Json) -> JsonObject:
    return value if isinstance(value, dict) else {}


def _list(value: Json) -> Sequence[Json]:
    return value if isinstance(value, list) else []


def schema_changes(
    old: JsonObject, new: JsonObject, path: str = ""
) -> Iterator[tuple[str, str, str]]:
    """Changes that break objects already stored under the old schema."""
    where = path or "(root)"
    if old.get("type") and new.get("type") and old["type"] != new["type"]:
        yield ("crd-narrowed-type", "high", f"{where} changes type {old['type']} → {new['type']}")
        return
    removed_values = set(map(str, _list(old.get("enum")))) - set(map(str, _list(new.get("enum"))))
    if new.get("enum") and (removed_values or not old.get("enum")):
        yield (
            "crd-narrowed-type",
            "high",
            f"{where} accepts fewer values"
            + (f" (dropped {', '.join(sorted(removed_values))})" if removed_values else ""),
        )
    for key, tighter in (
        ("maximum", _lower),
        ("maxLength", _lower),
        ("maxItems", _lower),
        ("minimum", _higher),
        ("minLength", _higher),
        ("minItems", _higher),
    ):
        if tighter(old.get(key), new.get(key)):
            yield (
                "crd-narrowed-type",
                "high",
                f"{where} {key} {old.get(key, 'unset')} → {new.get(key)}",
            )
    if new.get("pattern") and new.get("pattern") != old.get("pattern"):
        yield ("crd-narrowed-type", "high", f"{where} pattern → {new['pattern']}")
    required = set(map(str, _list(new.get("required")))) - set(map(str, _list(old.get("required"))))
    for name in sorted(required):
        yield ("crd-new-required", "high", f"{_join(path, name)} is now required")
    old_props, new_props = _object(old.get("properties")), _object(new.get("properties"))
    preserves = new.get("x-kubernetes-preserve-unknown-fields") is True
    for name in sorted(old_props):
        if name not in new_props:
            if not preserves:
                yield (
                    "crd-removed-field",
                    "high",
                    f"{_join(path, name)} is removed: stored values are pruned",
                )
            continue
        yield from schema_changes(
            _object(old_props[name]), _object(new_props[name]), _join(path, name)
        )
    old_items, new_items = old.get("items"), new.get("items")
    if isinstance(old_items, dict) and isinstance(new_items, dict):
        yield from schema_changes(old_items, new_items, f"{where}[]")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _lower(old: object, new: object) -> bool:
    """A new upper bound, or a lower one (unset means unbounded)."""
    return isinstance(new, int | float) and (not isinstance(old, int | float) or new < old)


def _higher(old: object, new: object) -> bool:
    """A new lower bound, or a higher one (unset means unbounded)."""
    return isinstance(new, int | float) and (not isinstance(old, int | float) or new > old)


def _kebab(kind: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in kind).lstrip("-")


RULES: tuple[Rule, ...] = (
    new_kinds,
    cluster_scope,
    new_rbac_objects,
    rbac_widening,
    powerful_bindings,
    webhook_objects,
    crd_scope,
    admission_changes,
    crd_schema,
)

"""The Kubernetes permissions a composed katalog needs, derived from the plan's inventory.

Per CRD: its own resource with ``/status`` and ``/finalizers``, and one rule per kind the
plan says it can create (:func:`~orkestra.plan.objects.declarations`: every phase, motifs
and implied objects included), with ``escalate`` for the Roles it writes and ``bind`` for
the roles its bindings reference (by name when the name is literal), plus what typed hooks
manage and what ``observe`` reads. For the system: the runtime's own needs (Events, the
leader-election Lease in its namespace, its CRDs by name) and, when webhooks, protection or
conversion are on, the gateway's. Rules are in the form of a ClusterRole's ``rules``; a rule
marked ``namespaced`` belongs in a Role of the runtime's namespace instead.

Two verb tables read the same derivation. :data:`PREVIEW` (``ork validate --full``) grants
the conventional manage verbs. :data:`RUNTIME` (``ork generate bundle``) grants exactly what
this runtime sends: it lists and watches every kind of ``onCreate``/``onReconcile`` (its
informers), reads, creates, replaces (PUT: ``update``) and deletes (pruning, finalizer
clean-up, secret rotation); the kinds only ``onDelete`` or an implied object touch are read
and written live, never listed; CRs are read and replaced (finalizers), their status is
replaced through the subresource; it never PATCHes anything but its own Events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orkestra.cluster.resources import plural_of
from orkestra.compose.composed import Composed
from orkestra.engine.build.base import KINDS
from orkestra.kubeobjects import PolicyRule, RoleRef
from orkestra.model.shapes import CrdEntry
from orkestra.plan.objects import PHASES, PlannedObject, code_blocks, declarations, security

READ = ("get", "list", "watch")
MANAGE = ("get", "list", "watch", "create", "update", "patch", "delete")
RBAC_GROUP = "rbac.authorization.k8s.io"
CRD_GROUP, CRDS = "apiextensions.k8s.io", "customresourcedefinitions"
WEBHOOK_GROUP = "admissionregistration.k8s.io"

# resource-template key -> (API group, resource, cluster-scoped), from the engine's kinds
KIND_RESOURCES: dict[str, tuple[str, str, bool]] = {
    key: (api_version.rpartition("/")[0], plural_of(kind), cluster)
    for key, (api_version, kind, cluster) in KINDS.items()
}
CORE_KIND_RESOURCES = {
    "Deployment": ("apps", "deployments"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "ReplicaSet": ("apps", "replicasets"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
    "Ingress": ("networking.k8s.io", "ingresses"),
}


@dataclass(frozen=True, kw_only=True)
class Verbs:
    """The verbs granted for each part of a CRD's needs."""

    informed: tuple[str, ...]  # kinds of onCreate/onReconcile (the runtime's informers)
    live: tuple[str, ...]  # kinds only onDelete or an implied object touches
    crs: tuple[str, ...]
    status: tuple[str, ...]
    hooks: tuple[str, ...]  # typed code: anything
    observe: tuple[str, ...]  # observe.watch (empty: not granted)


PREVIEW = Verbs(
    informed=MANAGE,
    live=MANAGE,
    crs=("get", "list", "watch", "update", "patch"),
    status=("get", "update", "patch"),
    hooks=MANAGE,
    observe=READ,
)
RUNTIME = Verbs(
    informed=("get", "list", "watch", "create", "update", "delete"),
    live=("get", "create", "update"),
    crs=("get", "list", "watch", "update"),
    status=("update",),
    hooks=MANAGE,
    observe=(),
)

_VERB_ORDER = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "bind",
    "escalate",
    "impersonate",
    "*",
]


@dataclass(kw_only=True)
class Rule:
    api_group: str
    resource: str
    verbs: set[str] = field(default_factory=set)
    reason: str = ""
    names: tuple[str, ...] = ()  # resourceNames (empty: any)
    namespaced: bool = False  # a Role's rule in the runtime's namespace

    def as_dict(self) -> PolicyRule:
        out: PolicyRule = {"apiGroups": [self.api_group], "resources": [self.resource]}
        if self.names:
            out["resourceNames"] = list(self.names)
        out["verbs"] = sorted(self.verbs, key=_VERB_ORDER.index)
        return out

    @property
    def sort_key(self) -> tuple[bool, bool, str, str, tuple[str, ...]]:
        return (self.namespaced, self.api_group != "", self.api_group, self.resource, self.names)


RuleKey = tuple[bool, str, str, tuple[str, ...]]


class RuleSet:
    def __init__(self) -> None:
        self.rules: dict[RuleKey, Rule] = {}
        self.unresolved: list[str] = []  # declarations whose kind only a CR decides

    def add(
        self,
        group: str,
        resource: str,
        verbs: tuple[str, ...],
        reason: str = "",
        *,
        names: tuple[str, ...] = (),
        namespaced: bool = False,
    ) -> None:
        key = (namespaced, group, resource, tuple(sorted(set(names))))
        rule = self.rules.setdefault(
            key,
            Rule(
                api_group=group,
                resource=resource,
                reason=reason,
                names=key[3],
                namespaced=namespaced,
            ),
        )
        rule.verbs.update(verbs)

    def update(self, other: RuleSet) -> None:
        for rule in other.rules.values():
            self.add(
                rule.api_group,
                rule.resource,
                tuple(rule.verbs),
                rule.reason,
                names=rule.names,
                namespaced=rule.namespaced,
            )
        self.unresolved += [u for u in other.unresolved if u not in self.unresolved]

    def sorted(self) -> list[Rule]:
        """The rules in a stable order; a rule limited to names is dropped when a rule on
        any name grants its verbs, and named rules with the same verbs are one rule."""
        anyname = {r.sort_key[:4]: r for r in self.rules.values() if not r.names}
        named: dict[tuple[bool, str, str, frozenset[str]], Rule] = {}
        for rule in self.rules.values():
            if not rule.names:
                continue
            base = anyname.get(rule.sort_key[:4])
            verbs = rule.verbs - (base.verbs if base else set())
            if verbs:
                key = (rule.namespaced, rule.api_group, rule.resource, frozenset(verbs))
                merged = named.setdefault(
                    key,
                    Rule(
                        api_group=rule.api_group,
                        resource=rule.resource,
                        verbs=set(verbs),
                        reason=rule.reason,
                        names=(),
                        namespaced=rule.namespaced,
                    ),
                )
                merged.names = tuple(sorted({*merged.names, *rule.names}))
        return sorted(
            [*anyname.values(), *named.values()],
            key=lambda r: (
                r.sort_key,
                [_VERB_ORDER.index(v) for v in sorted(r.verbs, key=_VERB_ORDER.index)],
            ),
        )

    def part(self, *, namespaced: bool) -> list[Rule]:
        """The cluster-wide rules (a ClusterRole's) or the namespace's (a Role's)."""
        return [r for r in self.sorted() if r.namespaced == namespaced]


def crd_resource(entry: CrdEntry) -> tuple[str, str]:
    """(API group, plural) of a CRD entry's own resource."""
    api = entry.get("apiTypes") or {}
    return str(api.get("group", "")), str(api.get("plural") or plural_of(api.get("kind", "")))


def known_plurals(composed: Composed) -> dict[tuple[str, str], str]:
    """(group, kind) -> plural for the CRDs a composition defines, so a ``custom`` child of
    one of them gets the plural its CRD declares rather than a guessed one."""
    found = {}
    for manifest in composed.crd_manifests.values():
        spec = manifest.get("spec") or {}
        names = spec.get("names")
        if isinstance(names, Mapping) and names.get("kind") and names.get("plural"):
            found[(str(spec.get("group", "")), str(names["kind"]))] = str(names["plural"])
    for entry in composed.crds.values():
        api = entry.get("apiTypes") or {}
        if api.get("kind") and api.get("plural"):
            found.setdefault((str(api.get("group", "")), str(api["kind"])), str(api["plural"]))
    return found


def crd_rules(
    entry: CrdEntry,
    table: Verbs = PREVIEW,
    plurals: Mapping[tuple[str, str], str] | None = None,
    *,
    name: str = "",
) -> RuleSet:
    """Permissions one CRD's operator needs (``name``: the CRD's, for messages)."""
    rules = RuleSet()
    group, plural = crd_resource(entry)
    rules.add(group, plural, table.crs, "the CRs")
    rules.add(group, f"{plural}/status", table.status, "status")
    rules.add(
        group, f"{plural}/finalizers", ("update",), "ownerReferences that block deletion of the CR"
    )
    objects = declarations(name, entry)
    informed = {(o.api_version, o.kind) for o in objects if o.phase != "onDelete" and not o.implied}
    for obj in objects:
        verbs = table.informed if (obj.api_version, obj.kind) in informed else table.live
        _object_rules(rules, obj, verbs, plurals or {})
    _hook_rules(rules, entry, table)
    return rules


def _object_rules(
    rules: RuleSet,
    obj: PlannedObject,
    verbs: tuple[str, ...],
    plurals: Mapping[tuple[str, str], str],
) -> None:
    if "{{" in obj.api_version + obj.kind:
        where = f"{obj.crd} {obj.declaration_id}" if obj.crd else obj.declaration_id
        rules.unresolved.append(
            f"{where}: {obj.api_version} {obj.kind} is a template, so "
            "only a CR decides which kind it makes"
        )
        return
    group = obj.api_version.rpartition("/")[0]
    resource = plurals.get((group, obj.kind)) or plural_of(obj.kind)
    rules.add(group, resource, verbs)
    if obj.key in ("roles", "clusterRoles"):
        rules.add(group, resource, ("escalate",), "grant the permissions the role holds")
    if obj.key in ("roleBindings", "clusterRoleBindings"):
        _bind_rules(rules, obj.role_ref)


def _bind_rules(rules: RuleSet, role_ref: RoleRef) -> None:
    kind, name = str(role_ref.get("kind", "")), str(role_ref.get("name", ""))
    targets = {"ClusterRole": ("clusterroles",), "Role": ("roles",)}.get(
        kind, ("roles", "clusterroles")
    )  # a templated kind: either
    names = (name,) if name and "{{" not in name else ()
    for target in targets:
        rules.add(
            RBAC_GROUP, target, ("bind",), "bind the roles the bindings reference", names=names
        )


def _hook_rules(rules: RuleSet, entry: CrdEntry, table: Verbs) -> None:
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    for block, ref in code_blocks(reconcile):
        for res in ref.get("resources") or []:
            g, r = CORE_KIND_RESOURCES.get(
                res["kind"], (res.get("group", ""), plural_of(res["kind"]))
            )
            rules.add(g, r, table.hooks, f"{block} resources")
    if not table.observe:
        return
    observe = (entry.get("operatorBox") or {}).get("observe") or {}
    for watch in observe.get("watch") or []:
        g, r = CORE_KIND_RESOURCES.get(
            watch["kind"],
            (watch.get("apiVersion", "").rpartition("/")[0], plural_of(watch["kind"])),
        )
        rules.add(g, r, table.observe, "observe.watch")


def cluster_scoped_kinds(entry: CrdEntry) -> list[str]:
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    kinds = set()
    for phase in PHASES:
        for kind, items in (reconcile.get(phase) or {}).items():
            if items and kind in KIND_RESOURCES and KIND_RESOURCES[kind][2]:
                kinds.add(kind)
    return sorted(kinds)


def _enabled(block: object) -> bool:
    return isinstance(block, dict) and bool(block.get("enabled"))


def needs_gateway(composed: Composed) -> bool:
    """Whether anything the gateway serves is on: admission webhooks (globally or per
    CRD), deletion or namespace protection, conversion."""
    return (
        any(
            _enabled(security(composed, key))
            for key in ("deletionProtection", "namespaceProtection", "conversion")
        )
        or _enabled(security(composed, "webhooks", "admission"))
        or any(
            any((e.get("webhooks") or {}).get(k) for k in ("validation", "mutation"))
            for e in composed.enabled_crds.values()
        )
    )


def crd_names(composed: Composed) -> tuple[str, ...]:
    """``<plural>.<group>`` of every enabled CRD: the CRD objects the runtime reads."""
    return tuple(
        sorted(
            {
                f"{plural}.{group}"
                for group, plural in map(crd_resource, composed.enabled_crds.values())
            }
        )
    )


def system_rules(composed: Composed) -> dict[str, RuleSet]:
    """Permissions of the runtime itself and, when :func:`needs_gateway`, the gateway."""
    sections = {"runtime": _runtime_rules(composed)}
    if needs_gateway(composed):
        sections["gateway"] = _gateway_rules(composed)
    return sections


def _runtime_rules(composed: Composed) -> RuleSet:
    runtime = RuleSet()
    runtime.add("", "events", ("create", "patch"), "record events (core v1, repeats patched)")
    runtime.add(
        "coordination.k8s.io",
        "leases",
        ("get", "create", "update"),
        "leader election",
        namespaced=True,
    )
    names = crd_names(composed)
    if names:
        runtime.add(CRD_GROUP, CRDS, ("get",), "wait until the CRDs are established", names=names)
    return runtime


def _gateway_rules(composed: Composed) -> RuleSet:
    gateway = RuleSet()
    gateway.add(
        WEBHOOK_GROUP,
        "validatingwebhookconfigurations",
        MANAGE,
        "admission and deletion protection",
    )
    if any(
        (e.get("mutation") or {}).get("rules") or (e.get("webhooks") or {}).get("mutation")
        for e in composed.enabled_crds.values()
    ):
        gateway.add(WEBHOOK_GROUP, "mutatingwebhookconfigurations", MANAGE, "mutation webhooks")
    gateway.add(
        "",
        "secrets",
        ("get", "create", "update", "delete"),
        "webhook certificates (deleted by ork gateway --uninstall)",
        namespaced=True,
    )
    if _enabled(security(composed, "namespaceProtection")):
        gateway.add("", "namespaces", ("get", "list", "patch"), "namespace protection labels")
    if _enabled(security(composed, "conversion")):
        gateway.add(
            CRD_GROUP,
            CRDS,
            ("get", "update", "patch"),
            "conversion webhook caBundle",
            names=crd_names(composed),
        )
    for group, plural in sorted(map(crd_resource, composed.enabled_crds.values())):
        gateway.add(group, plural, READ, "admission reads the CRs")
    return gateway

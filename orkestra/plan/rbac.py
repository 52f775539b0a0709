"""The Kubernetes permissions a runtime needs to run a composed katalog.

Derived from the kinds each CRD can create (every phase, motifs included), what it reads
(``observe``, ``cross``, hook resources) and which platform features are enabled (webhooks,
deletion/namespace protection, conversion). Rules are grouped per CRD and for the system
(runtime and gateway), in the form of a ClusterRole's ``rules``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orkestra.cluster.resources import plural_of
from orkestra.compose.composed import Composed
from orkestra.engine.build.base import KINDS

READ = ("get", "list", "watch")
MANAGE = ("get", "list", "watch", "create", "update", "patch", "delete")

# resource-template key -> (API group, resource, cluster-scoped), from the engine's kinds
KIND_RESOURCES: dict[str, tuple[str, str, bool]] = {
    key: (api_version.rpartition("/")[0], plural_of(kind), cluster)
    for key, (api_version, kind, cluster) in KINDS.items()}
CORE_KIND_RESOURCES = {
    "Deployment": ("apps", "deployments"), "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"), "ReplicaSet": ("apps", "replicasets"),
    "Job": ("batch", "jobs"), "CronJob": ("batch", "cronjobs"),
    "Ingress": ("networking.k8s.io", "ingresses"),
}


@dataclass
class Rule:
    api_group: str
    resource: str
    verbs: set[str] = field(default_factory=set)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"apiGroups": [self.api_group], "resources": [self.resource],
                "verbs": sorted(self.verbs, key=_VERB_ORDER.index)}


_VERB_ORDER = ["get", "list", "watch", "create", "update", "patch", "delete", "bind",
               "escalate", "impersonate", "*"]


class RuleSet:
    def __init__(self) -> None:
        self.rules: dict[tuple[str, str], Rule] = {}

    def add(self, group: str, resource: str, verbs: tuple[str, ...], reason: str = "") -> None:
        rule = self.rules.setdefault((group, resource), Rule(group, resource, reason=reason))
        rule.verbs.update(verbs)

    def sorted(self) -> list[Rule]:
        return sorted(self.rules.values(), key=lambda r: (r.api_group != "", r.api_group,
                                                          r.resource))


def _custom_resource(item: dict[str, Any]) -> tuple[str, str]:
    api_version = str(item.get("apiVersion", ""))
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return group, plural_of(str(item.get("kind", "")))


def crd_rules(entry: dict[str, Any]) -> RuleSet:
    """Permissions one CRD's operator needs."""
    rules = RuleSet()
    api = entry.get("apiTypes") or {}
    group, plural = api.get("group", ""), api.get("plural") or plural_of(api.get("kind", ""))
    rules.add(group, plural, ("get", "list", "watch", "update", "patch"), "the CRs")
    rules.add(group, f"{plural}/status", ("get", "update", "patch"), "status")
    rules.add(group, f"{plural}/finalizers", ("update",), "finalizers")
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    for phase in ("onCreate", "onReconcile", "onDelete"):
        for kind, items in (reconcile.get(phase) or {}).items():
            for item in items or []:
                if kind == "custom":
                    g, r = _custom_resource(item)
                    rules.add(g, r, MANAGE)
                    continue
                g, r, _ = KIND_RESOURCES[kind]
                rules.add(g, r, MANAGE)
                if kind in ("roles", "clusterRoles"):
                    rules.add(g, r, ("escalate",), "grant the permissions the role holds")
                if kind in ("roleBindings", "clusterRoleBindings"):
                    target = "clusterroles" if (item.get("roleRef") or {}).get("kind") \
                        == "ClusterRole" else "roles"
                    rules.add("rbac.authorization.k8s.io", target, ("bind",), "bind roles")
                if item.get("fromSecret") or item.get("fromConfigMap"):
                    rules.add(g, r, READ, "copy from another namespace")
    for block in ("hooks", "constructor"):
        for res in (reconcile.get(block) or {}).get("resources") or []:
            g, r = CORE_KIND_RESOURCES.get(res["kind"], (res.get("group", ""),
                                                          plural_of(res["kind"])))
            rules.add(g, r, MANAGE, f"{block} resources")
    observe = (entry.get("operatorBox") or {}).get("observe") or {}
    for watch in observe.get("watch") or []:
        g, r = CORE_KIND_RESOURCES.get(watch["kind"], (watch.get("apiVersion", "")
                                                        .rpartition("/")[0],
                                                        plural_of(watch["kind"])))
        rules.add(g, r, READ, "observe.watch")
    return rules


def cluster_scoped_kinds(entry: dict[str, Any]) -> list[str]:
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    kinds = set()
    for phase in ("onCreate", "onReconcile", "onDelete"):
        for kind, items in (reconcile.get(phase) or {}).items():
            if items and kind in KIND_RESOURCES and KIND_RESOURCES[kind][2]:
                kinds.add(kind)
    return sorted(kinds)


def needs_gateway(composed: Composed) -> bool:
    security = composed.top.get("security") or {}
    return any((security.get(key) or {}).get("enabled") for key in
               ("deletionProtection", "namespaceProtection")) or \
        bool(((security.get("webhooks") or {}).get("admission") or {}).get("enabled"))


def system_rules(composed: Composed) -> dict[str, RuleSet]:
    """Permissions of the runtime itself and, when webhooks or protection are on, the
    gateway."""
    runtime = RuleSet()
    runtime.add("", "events", ("create", "patch"), "record events")
    runtime.add("events.k8s.io", "events", ("create", "patch"), "record events")
    runtime.add("coordination.k8s.io", "leases", ("get", "create", "update"), "leader election")
    runtime.add("apiextensions.k8s.io", "customresourcedefinitions", READ, "wait for CRDs")
    security = composed.top.get("security") or {}
    if (security.get("conversion") or {}).get("enabled"):
        runtime.add("apiextensions.k8s.io", "customresourcedefinitions", ("update", "patch"),
                    "conversion webhook caBundle")
    sections = {"runtime": runtime}
    if needs_gateway(composed):
        gateway = RuleSet()
        gateway.add("admissionregistration.k8s.io", "validatingwebhookconfigurations", MANAGE,
                    "admission and deletion protection")
        if any(e.get("mutation") for e in composed.enabled_crds.values()):
            gateway.add("admissionregistration.k8s.io", "mutatingwebhookconfigurations", MANAGE,
                        "mutation webhooks")
        gateway.add("", "secrets", ("get", "create", "update"), "webhook certificates")
        gateway.add("", "namespaces", ("get", "list", "patch"), "namespace protection labels")
        sections["gateway"] = gateway
    return sections

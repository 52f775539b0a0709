"""The printers of the kinds of the other API groups.

This module owns the columns and cells of Ingresses and NetworkPolicies, HorizontalPodAutoscalers
(current and target metrics), PodDisruptionBudgets, Leases, RBAC roles and bindings (the
bound users, groups and service accounts), CustomResourceDefinitions, admission webhook
configurations and ValidatingAdmissionPolicies and their bindings.
"""

from __future__ import annotations

from datetime import datetime

from orkestra.apiserver.tables.formats import (
    NONE,
    UNKNOWN,
    age_of,
    as_int,
    dict_at,
    dicts_at,
    format_selector,
    list_at,
    metadata,
    or_none,
    value_at,
)
from orkestra.apiserver.tables.printers.columns import (
    AGE,
    CREATED,
    NAME,
    Cell,
    Printer,
    col,
    created,
)
from orkestra.kubeobjects import JsonObject, KubeObject


def _ingress_hosts(obj: KubeObject) -> str:
    rules = dicts_at(obj, "spec", "rules")
    hosts = [str(r["host"]) for r in rules[:3] if r.get("host")]
    text = ",".join(hosts) or "*"
    return f"{text} + {len(rules) - 3} more..." if len(rules) > 3 else text


def _load_balancer(obj: KubeObject) -> str:
    return ",".join(
        str(i.get("ip") or i.get("hostname") or "")
        for i in dicts_at(obj, "status", "loadBalancer", "ingress")
    )


def _ingress(obj: KubeObject, now: datetime) -> list[Cell]:
    ports = "80, 443" if list_at(obj, "spec", "tls") else "80"
    return [
        metadata(obj).get("name", ""),
        or_none(value_at(obj, "spec", "ingressClassName")),
        _ingress_hosts(obj),
        _load_balancer(obj),
        ports,
        age_of(obj, now),
    ]


def _network_policy(obj: KubeObject, now: datetime) -> list[Cell]:
    return [
        metadata(obj).get("name", ""),
        format_selector(value_at(obj, "spec", "podSelector")),
        age_of(obj, now),
    ]


def _hpa_targets(obj: KubeObject) -> str:
    current = {
        (value_at(m, "resource", "name")): m for m in list_at(obj, "status", "currentMetrics")
    }
    parts = []
    for metric in dicts_at(obj, "spec", "metrics"):
        resource = dict_at(metric, "resource")
        target = dict_at(resource, "target")
        if metric.get("type") != "Resource" or "averageUtilization" not in target:
            parts.append(f"{UNKNOWN}/{target.get('averageValue') or target.get('value') or ''}")
            continue
        now_value = value_at(
            current.get(resource.get("name")), "resource", "current", "averageUtilization"
        )
        shown = f"{now_value}%" if isinstance(now_value, int) else UNKNOWN
        parts.append(f"{resource.get('name')}: {shown}/{target['averageUtilization']}%")
    return ", ".join(parts) or NONE


def _hpa(obj: KubeObject, now: datetime) -> list[Cell]:
    spec = dict_at(obj, "spec")
    ref = dict_at(spec, "scaleTargetRef")
    return [
        metadata(obj).get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _hpa_targets(obj),
        as_int(spec.get("minReplicas"), 1),
        as_int(spec.get("maxReplicas")),
        as_int(value_at(obj, "status", "currentReplicas")),
        age_of(obj, now),
    ]


def _pdb(obj: KubeObject, now: datetime) -> list[Cell]:
    spec = dict_at(obj, "spec")
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [
        metadata(obj).get("name", ""),
        "N/A" if low is None else str(low),
        "N/A" if high is None else str(high),
        as_int(value_at(obj, "status", "disruptionsAllowed")),
        age_of(obj, now),
    ]


def _lease(obj: KubeObject, now: datetime) -> list[Cell]:
    return [
        metadata(obj).get("name", ""),
        value_at(obj, "spec", "holderIdentity") or "",
        age_of(obj, now),
    ]


def _binding_subjects(obj: KubeObject) -> list[Cell]:
    users, groups, accounts = [], [], []
    for s in dicts_at(obj, "subjects"):
        kind = s.get("kind")
        if kind == "User":
            users.append(str(s.get("name", "")))
        elif kind == "Group":
            groups.append(str(s.get("name", "")))
        elif kind == "ServiceAccount":
            accounts.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    return [", ".join(users), ", ".join(groups), ", ".join(accounts)]


def _binding(obj: KubeObject, now: datetime) -> list[Cell]:
    ref = dict_at(obj, "roleRef")
    return [
        metadata(obj).get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        age_of(obj, now),
        *_binding_subjects(obj),
    ]


def _webhooks(obj: KubeObject, now: datetime) -> list[Cell]:
    return [metadata(obj).get("name", ""), len(list_at(obj, "webhooks")), age_of(obj, now)]


def _admission_policy(obj: KubeObject, now: datetime) -> list[Cell]:
    kind = dict_at(obj, "spec", "paramKind")
    param_kind = f"{kind.get('apiVersion', '')}/{kind.get('kind', '')}" if kind else "<unset>"
    return [
        metadata(obj).get("name", ""),
        len(list_at(obj, "spec", "validations")),
        param_kind,
        age_of(obj, now),
    ]


def _param_ref(ref: JsonObject) -> str:
    if ref.get("name"):
        return f"{ref.get('namespace') or '*'}/{ref['name']}"
    return format_selector(ref["selector"]) if "selector" in ref else "<unset>"


def _policy_binding(obj: KubeObject, now: datetime) -> list[Cell]:
    return [
        metadata(obj).get("name", ""),
        value_at(obj, "spec", "policyName") or "",
        _param_ref(dict_at(obj, "spec", "paramRef")),
        age_of(obj, now),
    ]


_BINDING_WIDE = (
    col("Users", "Users in the binding.", priority=1),
    col("Groups", "Groups in the binding.", priority=1),
    col("ServiceAccounts", "Service accounts in the binding.", priority=1),
)


_ROLE = Printer((NAME, CREATED), created)
_BINDING = Printer(
    (NAME, col("Role", "The role the binding grants."), AGE, *_BINDING_WIDE), _binding
)
_WEBHOOKS = Printer((NAME, col("Webhooks", "Number of webhooks.", "integer"), AGE), _webhooks)


PRINTERS: dict[tuple[str, str], Printer] = {
    ("networking.k8s.io", "Ingress"): Printer(
        (
            NAME,
            col("Class", "Ingress class."),
            col("Hosts", "Hosts routed."),
            col("Address", "Load balancer addresses."),
            col("Ports", "Ports served."),
            AGE,
        ),
        _ingress,
    ),
    ("networking.k8s.io", "NetworkPolicy"): Printer(
        (NAME, col("Pod-Selector", "Pods the policy applies to."), AGE), _network_policy
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): Printer(
        (
            NAME,
            col("Reference", "The scaled object."),
            col("Targets", "Current and target metric values."),
            col("MinPods", "Lower replica limit.", "integer"),
            col("MaxPods", "Upper replica limit.", "integer"),
            col("Replicas", "Current replicas.", "integer"),
            AGE,
        ),
        _hpa,
    ),
    ("policy", "PodDisruptionBudget"): Printer(
        (
            NAME,
            col("Min Available", "Pods that must stay available."),
            col("Max Unavailable", "Pods that may be unavailable."),
            col("Allowed Disruptions", "Disruptions allowed now.", "integer"),
            AGE,
        ),
        _pdb,
    ),
    ("coordination.k8s.io", "Lease"): Printer(
        (NAME, col("Holder", "Current lease holder."), AGE), _lease
    ),
    ("rbac.authorization.k8s.io", "Role"): _ROLE,
    ("rbac.authorization.k8s.io", "ClusterRole"): _ROLE,
    ("rbac.authorization.k8s.io", "RoleBinding"): _BINDING,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _BINDING,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): Printer((NAME, CREATED), created),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): _WEBHOOKS,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): _WEBHOOKS,
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): Printer(
        (
            NAME,
            col("Validations", "Number of validation rules.", "integer"),
            col("ParamKind", "Kind of the resources that parameterize the policy."),
            AGE,
        ),
        _admission_policy,
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): Printer(
        (
            NAME,
            col("PolicyName", "The policy the binding binds."),
            col("ParamRef", "The param resource of the binding."),
            AGE,
        ),
        _policy_binding,
    ),
}

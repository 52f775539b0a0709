"""ServiceAccounts, Roles, ClusterRoles, their bindings, and Namespaces."""

from __future__ import annotations

from orkestra.engine.build.base import Build, builder
from orkestra.engine.build.shapes import ObjectBody
from orkestra.kubeobjects import KubeObject, PolicyRule, Subject

RBAC_GROUP = "rbac.authorization.k8s.io"


@builder("serviceAccounts")
def service_account(b: Build) -> list[KubeObject]:
    body: ObjectBody = {}
    if b.item.get("automountServiceAccountToken") is not None:
        body["automountServiceAccountToken"] = b.fields.boolean(
            b.item["automountServiceAccountToken"], "automountServiceAccountToken"
        )
    secrets = b.item.get("imagePullSecrets") or []
    if secrets:
        body["imagePullSecrets"] = [
            {
                "name": b.fields.text(
                    s if isinstance(s, str) else s["name"], f"imagePullSecrets[{i}]"
                )
            }
            for i, s in enumerate(secrets)
        ]
    return [b.object(b.name(), body)]


def _rules(b: Build) -> list[PolicyRule]:
    rules = []
    for i, rule in enumerate(b.item.get("rules") or []):
        entry: PolicyRule = {"apiGroups": list(rule.get("apiGroups") or [""])}
        for key in ("resources", "nonResourceURLs"):
            if rule.get(key):
                entry[key] = list(rule[key])
        if rule.get("resourceNames"):
            entry["resourceNames"] = b.fields.strings(
                rule["resourceNames"], f"rules[{i}].resourceNames"
            )
        entry["verbs"] = list(rule["verbs"])
        rules.append(entry)
    return rules


@builder("roles", "clusterRoles")
def role(b: Build) -> list[KubeObject]:
    return [b.object(b.name(), {"rules": _rules(b)})]


@builder("roleBindings", "clusterRoleBindings")
def binding(b: Build) -> list[KubeObject]:
    ref = b.item["roleRef"]
    body: ObjectBody = {
        "roleRef": {
            "apiGroup": RBAC_GROUP,
            "kind": b.fields.text(ref["kind"], "roleRef.kind"),
            "name": b.fields.text(ref["name"], "roleRef.name"),
        }
    }
    subjects: list[Subject] = []
    for i, subject in enumerate(b.item.get("subjects") or []):
        where = f"subjects[{i}]"
        kind = b.fields.text(subject["kind"], f"{where}.kind")
        entry: Subject = {"kind": kind, "name": b.fields.text(subject["name"], f"{where}.name")}
        if kind == "ServiceAccount":
            entry["namespace"] = b.fields.text(
                subject.get("namespace"), f"{where}.namespace", b.owner.namespace or "default"
            )
        else:
            entry["apiGroup"] = RBAC_GROUP
        subjects.append(entry)
    if subjects:
        body["subjects"] = subjects
    return [b.object(b.name(), body)]


@builder("namespaces")
def namespace(b: Build) -> list[KubeObject]:
    return [b.object(b.name(), {"spec": {}})]

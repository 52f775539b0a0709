"""RBAC preview: what the runtime needs for a composed katalog."""

from __future__ import annotations

from pathlib import Path

from orkestra.compose import compose_file
from orkestra.plan.objects import inventory
from orkestra.plan.rbac import (
    RUNTIME,
    RuleSet,
    cluster_scoped_kinds,
    crd_rules,
    needs_gateway,
    system_rules,
)
from tests.conftest import PACK, WriteFiles

KATALOG = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: tenants}
security:
  deletionProtection: {enabled: true}
spec:
  crds:
    tenant:
      apiTypes: {group: t.io, version: v1, kind: Tenant, plural: tenants}
      namespaced: false
      mutation:
        rules: [{field: spec.tier, default: free}]
      operatorBox:
        onCreate:
          namespaces: [{name: "{{ .metadata.name }}"}]
          jobs: [{name: init, image: busybox}]
        onReconcile:
          clusterRoleBindings:
            - name: "{{ .metadata.name }}-admin"
              roleRef: {kind: ClusterRole, name: admin}
          custom:
            - {apiVersion: db.example.com/v1, kind: Database, metadata: {name: x}}
"""


def _rules(entry: dict) -> dict[tuple[str, str], list[str]]:  # type: ignore[type-arg]
    return {(r.api_group, r.resource): r.as_dict()["verbs"] for r in crd_rules(entry).sorted()}


def test_pack_katalog_rules() -> None:
    entry = compose_file(PACK / "02-katalog-api" / "katalog.yaml").crds["webapp"]
    assert _rules(entry) == {
        ("", "services"): ["get", "list", "watch", "create", "update", "patch", "delete"],
        ("apps", "deployments"): ["get", "list", "watch", "create", "update", "patch", "delete"],
        ("networking.k8s.io", "ingresses"): [
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
        ],
        ("rkguide.demo", "webapps"): ["get", "list", "watch", "update", "patch"],
        ("rkguide.demo", "webapps/finalizers"): ["update"],
        ("rkguide.demo", "webapps/status"): ["get", "update", "patch"],
    }
    assert cluster_scoped_kinds(entry) == []


def test_cluster_scope_bindings_custom_and_gateway(write: WriteFiles) -> None:
    write(**{"k.yaml": KATALOG})
    composed = compose_file(Path("k.yaml"))
    entry = composed.crds["tenant"]
    rules = _rules(entry)
    assert rules[("rbac.authorization.k8s.io", "clusterroles")] == ["bind"]
    assert "delete" in rules[("", "namespaces")]
    assert ("db.example.com", "databases") in rules
    assert cluster_scoped_kinds(entry) == ["clusterRoleBindings", "namespaces"]
    assert needs_gateway(composed)
    sections = system_rules(composed)
    gateway = {(r.api_group, r.resource) for r in sections["gateway"].sorted()}
    assert ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") in gateway
    assert ("coordination.k8s.io", "leases") in {
        (r.api_group, r.resource) for r in sections["runtime"].sorted()
    }


def test_runtime_verbs_are_what_the_runtime_sends() -> None:
    """No patch (the runtime replaces), no status reads (it writes the status it computed);
    the preview keeps the conventional verbs."""
    entry = compose_file(PACK / "02-katalog-api" / "katalog.yaml").crds["webapp"]
    rules = {
        (r.api_group, r.resource): r.as_dict()["verbs"] for r in crd_rules(entry, RUNTIME).sorted()
    }
    assert rules[("apps", "deployments")] == ["get", "list", "watch", "create", "update", "delete"]
    assert rules[("rkguide.demo", "webapps")] == ["get", "list", "watch", "update"]
    assert rules[("rkguide.demo", "webapps/status")] == ["update"]


def test_an_ingress_tls_secret_is_planned_and_read_live(write: WriteFiles) -> None:
    write(
        **{
            "k.yaml": KATALOG.replace(
                "jobs: [{name: init, image: busybox}]",
                "ingresses: [{name: web, tls: {create: true}}]",
            )
        }
    )
    composed = compose_file(Path("k.yaml"))
    [secret] = [o for o in inventory(composed).objects() if o.kind == "Secret"]
    assert (secret.name, secret.implied, secret.declaration_id) == (
        "web-tls",
        True,
        "onCreate/ingresses/0",
    )
    rules = {
        (r.api_group, r.resource): r.as_dict()["verbs"]
        for r in crd_rules(composed.crds["tenant"], RUNTIME).sorted()
    }
    assert rules[("", "secrets")] == ["get", "create", "update"]
    assert rules[("networking.k8s.io", "ingresses")] == [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "delete",
    ]


def test_named_rules_merge_and_yield_to_unnamed_ones() -> None:
    rules = RuleSet()
    rules.add("rbac.authorization.k8s.io", "clusterroles", ("bind",), names=("view",))
    rules.add("rbac.authorization.k8s.io", "clusterroles", ("bind",), names=("edit",))
    rules.add("rbac.authorization.k8s.io", "roles", ("bind",), names=("reader",))
    rules.add("rbac.authorization.k8s.io", "roles", ("bind",))
    assert [r.as_dict() for r in rules.sorted()] == [
        {
            "apiGroups": ["rbac.authorization.k8s.io"],
            "resources": ["clusterroles"],
            "resourceNames": ["edit", "view"],
            "verbs": ["bind"],
        },
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind"]},
    ]

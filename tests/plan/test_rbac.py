"""RBAC preview: what the runtime needs for a composed katalog."""

from __future__ import annotations

from pathlib import Path

from orkestra.compose import compose_file
from orkestra.plan.rbac import cluster_scoped_kinds, crd_rules, needs_gateway, system_rules
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
        ("networking.k8s.io", "ingresses"): ["get", "list", "watch", "create", "update",
                                             "patch", "delete"],
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
    assert ("coordination.k8s.io", "leases") in {(r.api_group, r.resource)
                                                 for r in sections["runtime"].sorted()}

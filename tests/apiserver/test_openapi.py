"""The OpenAPI documents carry what kubectl needs for apply (validation) and explain."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from orkestra.apiserver import openapi
from orkestra.apiserver.openapi import SchemaSource, v2_document, v3_document, v3_index
from orkestra.cluster.resources import BUILTIN_TYPES, ResourceType, crd_types

Obj = dict[str, Any]
CRD: Obj = {
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.size",
                        "statusReplicasPath": ".status.size",
                    },
                },
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "description": "A widget.",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer", "description": "How big."},
                                    "nullable": {"type": "string", "nullable": True},
                                },
                            }
                        },
                    }
                },
            },
            {"name": "v0", "served": False},
        ],
    }
}
CLUSTER_CRD: Obj = {
    "spec": {
        "group": "tools.example.com",
        "scope": "Cluster",
        "names": {"kind": "Gizmo", "plural": "gizmos"},
        "versions": [{"name": "v1alpha1", "served": True}],
    }
}
TYPES = [*BUILTIN_TYPES, *crd_types(CRD), *crd_types(CLUSTER_CRD)]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    openapi.clear_cache()
    yield
    openapi.clear_cache()


def refs(node: Any, prefix: str) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert ref.startswith(prefix), ref
            yield ref[len(prefix) :]
        for value in node.values():
            yield from refs(value, prefix)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value, prefix)


def doc(gv: str, types: list[ResourceType] | None = None) -> Obj:
    found = v3_document(gv, TYPES if types is None else types)
    assert found is not None
    return found


def supports_field_validation(document: Obj, group: str, version: str, kind: str) -> bool:
    """What kubectl's OpenAPI v3 query-param verifier checks before server-side validation:
    a PATCH operation for the kind with a ``fieldValidation`` query parameter."""
    want = {"group": group, "version": version, "kind": kind}
    for item in document["paths"].values():
        op = item.get("patch")
        if op and op.get("x-kubernetes-group-version-kind") == want:
            return any(
                p["name"] == "fieldValidation" and p["in"] == "query"
                for p in op.get("parameters", [])
            )
    return False


def test_index_lists_every_served_group_version_with_a_hash() -> None:
    index = v3_index(TYPES)
    paths = index["paths"]
    assert {
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/example.com/v1",
        "apis/tools.example.com/v1alpha1",
    } <= set(paths)
    assert "apis/example.com/v0" not in paths
    url = paths["apis/apps/v1"]["serverRelativeURL"]
    assert re.fullmatch(r"/openapi/v3/apis/apps/v1\?hash=[0-9A-F]{128}", url)
    assert v3_index(list(reversed(TYPES))) == index
    found = openapi.v3_document_json("apis/apps/v1", TYPES)
    assert found is not None and url.endswith(found[1])


def test_hash_changes_only_for_the_changed_group_version() -> None:
    before = v3_index(TYPES)["paths"]
    changed = copy.deepcopy(CRD)
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] = "Changed."
    after = v3_index([*BUILTIN_TYPES, *crd_types(changed), *crd_types(CLUSTER_CRD)])["paths"]
    assert after["apis/example.com/v1"] != before["apis/example.com/v1"]
    assert after["apis/apps/v1"] == before["apis/apps/v1"]


def test_documents_are_cached() -> None:
    assert v3_document("apis/apps/v1", TYPES) is v3_document("/apis/apps/v1/", list(TYPES))
    assert v2_document(TYPES) is v2_document(TYPES)
    assert v3_document("apis/nope/v1", TYPES) is None


def test_builtin_document_has_reachable_schemas_only_and_they_resolve() -> None:
    apps = doc("apis/apps/v1")
    assert apps["openapi"].startswith("3.0")
    schemas = apps["components"]["schemas"]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert {"group": "apps", "version": "v1", "kind": "Deployment"} in deployment[
        "x-kubernetes-group-version-kind"
    ]
    assert "io.k8s.api.apps.v1.DeploymentList" in schemas
    assert "io.k8s.api.core.v1.PodSpec" in schemas
    assert "io.k8s.api.autoscaling.v1.Scale" in schemas
    assert "io.k8s.api.batch.v1.Job" not in schemas
    for name in ("Status", "DeleteOptions", "Patch", "ObjectMeta", "APIResourceList"):
        assert f"io.k8s.apimachinery.pkg.apis.meta.v1.{name}" in schemas
    assert set(refs(apps, openapi.REF_V3)) <= set(schemas)


def test_paths_have_kubernetes_extensions() -> None:
    paths = doc("apis/apps/v1")["paths"]
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert set(item) == {"get", "put", "patch", "delete", "parameters"}
    assert [p["name"] for p in item["parameters"]] == ["name", "namespace", "pretty"]
    patch = item["patch"]
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    assert {"fieldValidation", "fieldManager", "dryRun", "force"} <= {
        p["name"] for p in patch["parameters"]
    }
    assert patch["operationId"] == "patchAppsV1NamespacedDeployment"
    collection = paths["/apis/apps/v1/namespaces/{namespace}/deployments"]
    assert {m: op["x-kubernetes-action"] for m, op in collection.items() if m != "parameters"} == {
        "get": "list",
        "post": "post",
        "delete": "deletecollection",
    }
    assert "/apis/apps/v1/deployments" in paths
    assert paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"][
        "x-kubernetes-group-version-kind"
    ] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status" in paths
    assert paths["/apis/apps/v1/"]["get"]["operationId"] == "getAppsV1APIResources"
    core = doc("api/v1")["paths"]
    assert "/api/v1/namespaces/{name}" in core and "/api/v1/nodes/{name}" in core
    assert "/api/v1/namespaces/{namespace}/configmaps/{name}/status" not in core
    assert (
        core["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]["operationId"]
        == "readCoreV1NamespacedPod"
    )


@pytest.mark.parametrize("rt", list(BUILTIN_TYPES), ids=lambda t: t.qualified)
def test_kubectl_would_validate_every_builtin_kind_on_the_server(rt: ResourceType) -> None:
    document = doc(openapi.group_version_path(rt.group, rt.version))
    assert supports_field_validation(document, rt.group, rt.version, rt.kind)


def test_every_patch_operation_declares_field_validation() -> None:
    for gv in openapi.group_versions(TYPES):
        for url, item in doc(gv)["paths"].items():
            if "patch" in item:
                names = {p["name"] for p in item["patch"]["parameters"]}
                assert "fieldValidation" in names, url


def test_custom_resource_schema_and_paths() -> None:
    widgets = doc("apis/example.com/v1")
    schemas = widgets["components"]["schemas"]
    widget = schemas["com.example.v1.Widget"]
    assert widget["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "version": "v1", "kind": "Widget"}
    ]
    assert widget["description"] == "A widget."
    assert widget["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert widget["properties"]["spec"]["properties"]["size"]["type"] == "integer"
    assert {"apiVersion", "kind"} <= set(widget["properties"])
    listed = schemas["com.example.v1.WidgetList"]
    assert listed["properties"]["items"]["items"]["allOf"] == [
        {"$ref": "#/components/schemas/com.example.v1.Widget"}
    ]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry" in schemas
    assert "io.k8s.api.apps.v1.Deployment" not in schemas
    assert set(refs(widgets, openapi.REF_V3)) <= set(schemas)
    assert supports_field_validation(widgets, "example.com", "v1", "Widget")
    patch = widgets["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    assert "application/merge-patch+json" in patch["requestBody"]["content"]
    assert "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale" in widgets["paths"]
    assert (
        CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        .get("properties", {})
        .get("metadata")
        is None
    )


def test_custom_resource_without_schema_is_open_and_cluster_scoped() -> None:
    gizmos = doc("apis/tools.example.com/v1alpha1")
    gizmo = gizmos["components"]["schemas"]["com.example.tools.v1alpha1.Gizmo"]
    assert gizmo["x-kubernetes-preserve-unknown-fields"] is True
    assert "/apis/tools.example.com/v1alpha1/gizmos/{name}" in gizmos["paths"]
    assert not any("namespaces" in url for url in gizmos["paths"])
    assert "/apis/tools.example.com/v1alpha1/gizmos/{name}/status" not in gizmos["paths"]


def test_swagger_2_document() -> None:
    swagger = v2_document(TYPES)
    assert swagger["swagger"] == "2.0"
    definitions = swagger["definitions"]
    assert set(refs(swagger, openapi.REF_V2)) <= set(definitions)
    deployment = definitions["io.k8s.api.apps.v1.Deployment"]
    assert deployment["properties"]["metadata"]["$ref"] == (
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    widget_spec = definitions["com.example.v1.Widget"]["properties"]["spec"]
    assert "nullable" in widget_spec["properties"]
    assert "nullable" not in widget_spec["properties"]["nullable"]
    patch = swagger["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["parameters"][0] == {
        "name": "body",
        "in": "body",
        "required": True,
        "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"},
    }
    assert any(
        p["name"] == "fieldValidation" and p["in"] == "query" and p["type"] == "string"
        for p in patch["parameters"]
    )
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    assert "/apis/example.com/v1/namespaces/{namespace}/widgets" in swagger["paths"]
    assert openapi.v2_document_json(TYPES).startswith(b"{")


def test_v2_schema_conversion() -> None:
    v3 = {
        "type": "object",
        "nullable": True,
        "anyOf": [{"type": "string"}],
        "properties": {
            "a": {"allOf": [{"$ref": "#/components/schemas/X"}], "description": "d"},
            "oneOf": {"type": "string"},
        },
        "items": {"$ref": "#/components/schemas/Y"},
        "additionalProperties": {"allOf": [{"$ref": "#/components/schemas/Z"}, {"type": "object"}]},
    }
    assert openapi.to_v2_schema(v3) == {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/definitions/X", "description": "d"},
            "oneOf": {"type": "string"},
        },
        "items": {"$ref": "#/definitions/Y"},
        "additionalProperties": {"allOf": [{"$ref": "#/definitions/Z"}, {"type": "object"}]},
    }


def test_without_vendored_schemas_builtins_degrade_to_open_schemas() -> None:
    openapi._SOURCE = SchemaSource({}, lambda group, version, kind: None, "v1.32.0")
    try:
        apps = doc("apis/apps/v1", list(BUILTIN_TYPES))
        schemas = apps["components"]["schemas"]
        deployment = schemas["io.k8s.api.apps.v1.Deployment"]
        assert deployment["x-kubernetes-preserve-unknown-fields"] is True
        assert deployment["x-kubernetes-group-version-kind"] == [
            {"group": "apps", "version": "v1", "kind": "Deployment"}
        ]
        assert set(refs(apps, openapi.REF_V3)) <= set(schemas)
        assert supports_field_validation(apps, "apps", "v1", "Deployment")
    finally:
        openapi.clear_cache()


def test_custom_definition_names_reverse_the_group() -> None:
    assert openapi.custom_definition_name("stable.example.com", "v1", "CronTab") == (
        "com.example.stable.v1.CronTab"
    )

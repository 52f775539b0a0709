"""The vendored built-in schemas and their navigation (SMP and SSA semantics)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orkestra.cluster import kubeschema as ks
from orkestra.cluster.resources import BUILTIN_TYPES


def test_version_and_data_file() -> None:
    assert ks.KUBERNETES_VERSION == "v1.32.0"
    assert ks.DATA_FILE.name == "kubernetes-v1.32.json.gz"
    assert ks.DATA_FILE.stat().st_size < 200_000


@pytest.mark.parametrize("rt", BUILTIN_TYPES, ids=lambda rt: f"{rt.api_version}/{rt.kind}")
def test_every_builtin_kind_and_its_list_is_vendored(rt: Any) -> None:
    name = ks.definition_name(rt.group, rt.version, rt.kind)
    assert name is not None
    assert ks.definition_name(rt.group, rt.version, rt.list_kind) is not None
    assert ks.kind_node(rt.group, rt.version, rt.kind) is not None
    assert ks.kind_schema(rt.group, rt.version, rt.kind) is ks.definitions()[name]


def test_definitions_are_openapi_v3_components() -> None:
    defs = ks.definitions()
    text = json.dumps(defs)
    assert "#/$defs/" not in text
    assert '"null"' not in text
    for name in (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.api.autoscaling.v1.Scale",
    ):
        assert name in defs
    spec = defs["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]
    assert spec["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}]
    assert "description" in spec
    kind = defs["io.k8s.api.apps.v1.Deployment"]["properties"]["kind"]
    assert kind["type"] == "string" and "enum" not in kind
    assert defs["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert (
        defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["x-kubernetes-int-or-string"]
        is True
    )


def test_definition_name() -> None:
    assert ks.definition_name("", "v1", "Pod") == "io.k8s.api.core.v1.Pod"
    assert ks.definition_name("apps", "v1", "Deployment") == "io.k8s.api.apps.v1.Deployment"
    assert ks.definition_name("events.k8s.io", "v1", "Event") == "io.k8s.api.events.v1.Event"
    assert ks.definition_name("apps", "v1", "Nope") is None


def test_resolve_folds_refs_and_keeps_own_keys() -> None:
    strategy = ks.definitions()["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    resolved = ks.resolve(strategy)
    assert "rollingUpdate" in resolved["properties"]
    assert resolved["x-kubernetes-patch-strategy"] == "retainKeys"
    assert resolved["description"] == strategy["description"]
    plain = {"type": "string"}
    assert ks.resolve(plain) is plain


POD = ("", "v1", "Pod")
# (path from the Pod root, strategies, merge key, list type, map keys)
LISTS = [
    (("spec", "containers"), {"merge"}, "name", "map", ("name",)),
    (("spec", "containers", "[]", "env"), {"merge"}, "name", "map", ("name",)),
    (
        ("spec", "containers", "[]", "ports"),
        {"merge"},
        "containerPort",
        "map",
        ("containerPort", "protocol"),
    ),
    (("spec", "volumes"), {"merge", "retainKeys"}, "name", "map", ("name",)),
    (("spec", "tolerations"), set(), None, "atomic", ()),
    (("spec", "containers", "[]", "args"), set(), None, "atomic", ()),
    (("metadata", "finalizers"), {"merge"}, None, "set", ()),
    (("metadata", "ownerReferences"), {"merge"}, "uid", "map", ("uid",)),
]


@pytest.mark.parametrize(
    ("path", "strategies", "merge_key", "list_type", "keys"),
    LISTS,
    ids=[".".join(c[0]) for c in LISTS],
)
def test_list_semantics(
    path: tuple[str, ...],
    strategies: set[str],
    merge_key: str | None,
    list_type: str,
    keys: tuple[str, ...],
) -> None:
    root = ks.kind_node(*POD)
    assert root is not None
    node = root.at(*path)
    assert node.shape == ks.LIST
    assert node.semantics == ks.ListSemantics(frozenset(strategies), merge_key, list_type, keys)
    assert node.semantics.merge == ("merge" in strategies)
    assert (node.list_type, node.map_keys, node.merge_key) == (list_type, keys, merge_key)


def test_list_semantics_from_patch_strategy_alone() -> None:
    assert ks.list_semantics(
        {"x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id"}
    ).map_keys == ("id",)
    assert ks.list_semantics({"x-kubernetes-patch-strategy": "merge"}).list_type == "set"
    assert ks.list_semantics({}).list_type == "atomic"


def test_maps_and_scalars() -> None:
    deployment = ks.kind_node("apps", "v1", "Deployment")
    assert deployment is not None
    selector = deployment.at("spec", "selector")
    assert selector.shape == ks.MAP and selector.map_atomic
    assert ks.map_type(selector.schema) == ks.MAP_ATOMIC
    labels = deployment.at("metadata", "labels")
    assert labels.shape == ks.MAP and not labels.map_atomic and not labels.struct
    assert labels.field("anything").shape == ks.SCALAR
    assert deployment.at("spec", "strategy").strategies == frozenset({"retainKeys"})
    assert deployment.at("spec", "strategy", "rollingUpdate", "maxSurge").shape == ks.SCALAR
    assert deployment.at("spec", "template", "spec").struct
    assert deployment.field("nope") is ks.UNKNOWN
    assert deployment.field("spec") is deployment.field("spec"), "children are cached"


def test_unknown_is_deduced() -> None:
    assert ks.UNKNOWN.field("x") is ks.UNKNOWN
    assert ks.UNKNOWN.items() is ks.UNKNOWN
    assert ks.UNKNOWN.list_type == "atomic" and not ks.UNKNOWN.map_atomic
    assert not ks.UNKNOWN.typed


CRD_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["port", "protocol"],
                    "items": {
                        "type": "object",
                        "properties": {"port": {"type": "integer"}, "protocol": {"type": "string"}},
                    },
                },
                "names": {
                    "type": "array",
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "selector": {
                    "type": "object",
                    "x-kubernetes-map-type": "atomic",
                    "additionalProperties": {"type": "string"},
                },
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
    },
}


def test_crd_schema_navigates_the_same_way() -> None:
    root = ks.crd_node(CRD_SCHEMA)
    assert ks.crd_node(CRD_SCHEMA) is root, "cached per schema object"
    assert ks.as_node(CRD_SCHEMA) is root
    assert not root.typed
    spec = root.field("spec")
    assert spec.field("tags").list_type == "atomic"
    assert (spec.field("ports").list_type, spec.field("ports").map_keys) == (
        "map",
        ("port", "protocol"),
    )
    assert not spec.field("ports").semantics.merge, "CRDs carry no patch strategy"
    assert spec.field("names").list_type == "set"
    assert spec.field("selector").map_atomic
    assert spec.field("config").preserves_unknown
    assert spec.field("config").field("anything") is ks.UNKNOWN
    # metadata is ObjectMeta, as the API server reads it for custom resources.
    assert root.at("metadata", "finalizers").list_type == "set"
    assert root.at("metadata", "labels").shape == ks.MAP


def test_as_node() -> None:
    schema = ks.kind_schema("apps", "v1", "Deployment")
    assert ks.as_node(schema) is ks.kind_node("apps", "v1", "Deployment")
    assert ks.as_node(None) is ks.UNKNOWN
    node = ks.crd_node(None)
    assert node.field("spec") is ks.UNKNOWN


def test_generator_reproduces_the_vendored_file() -> None:
    pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is installed by `make kube-schemas` only"
    )
    from tools import gen_kube_schemas

    source = gen_kube_schemas.source_file()
    if not source.exists():
        pytest.skip(f"kubernetes-validate has no {ks.KUBERNETES_VERSION} schemas")
    data = gen_kube_schemas.encode(gen_kube_schemas.build(json.loads(source.read_text())["$defs"]))
    assert data == ks.DATA_FILE.read_bytes()

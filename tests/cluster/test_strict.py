"""Unknown fields: the shortcuts of the strict walk find (and drop) exactly what a plain walk
does, in the same order, on objects with unknown fields anywhere."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra.cluster.data import clone
from orkestra.cluster.kubeschema import UNKNOWN, SchemaNode, crd_node, kind_node
from orkestra.cluster.strict import unknown_fields
from orkestra.kubeobjects import Json

# Field names of the kinds below, names no kind declares, and map keys.
NAMES = [
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "status",
    "name",
    "labels",
    "annotations",
    "ownerReferences",
    "uid",
    "replicas",
    "selector",
    "matchLabels",
    "template",
    "containers",
    "image",
    "ports",
    "containerPort",
    "protocol",
    "env",
    "value",
    "resources",
    "limits",
    "data",
    "binaryData",
    "strategy",
    "rollingUpdate",
    "maxSurge",
    "size",
    "replicass",
    "imagee",
    "bogus",
    "x-1",
    "app",
]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["", "a"]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(NAMES), inner, max_size=5)
    ),
    max_leaves=40,
)
BASES: list[dict[str, Json]] = [
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "1"}],
        },
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "ports": [{"containerPort": 80}],
                            "env": [{"name": "A", "value": "1"}],
                            "resources": {"limits": {"cpu": "1"}},
                        }
                    ]
                },
            },
        },
    },
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}},
    {
        "apiVersion": "x.io/v1",
        "kind": "Thing",
        "metadata": {"name": "t", "annotations": {"a": "b"}},
        "spec": {"size": 1, "labels": {"a": "b"}, "ports": [{"name": "p"}], "data": {"a": 1}},
        "status": {"a": [1]},
    },
]
# (which map of the object, key, value) to put into a base object
EDITS = st.lists(st.tuples(st.integers(0, 30), st.sampled_from(NAMES), VALUES), max_size=4)
CRD_SCHEMA: dict[str, Json] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "ports": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                },
                "data": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def _nodes() -> list[SchemaNode]:
    found = [
        kind_node("apps", "v1", "Deployment"),
        kind_node("", "v1", "ConfigMap"),
        kind_node("", "v1", "Pod"),
        crd_node(CRD_SCHEMA),
    ]
    return [node for node in found if node is not None]


def plain_walk(value: Any, node: SchemaNode, path: str, found: list[str], remove: bool) -> None:
    """Every map and list entered, every key looked up: what the shortcuts must equal."""
    if node is UNKNOWN or node.preserves_unknown:
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                plain_walk(item, node.items(), f"{path}[{index}]", found, remove)
        return
    if not isinstance(value, dict) or not node.walks_fields:
        return
    names = node.field_names
    for key, item in list(value.items()):
        if names is None or key in names or (not path and key in ("apiVersion", "kind")):
            if isinstance(item, dict | list):
                plain_walk(item, node.field(key), f"{path}.{key}" if path else key, found, remove)
            continue
        found.append(f"{path}.{key}" if path else key)
        if remove:
            del value[key]


def _maps(value: Json) -> list[dict[str, Json]]:
    if isinstance(value, list):
        return [m for item in value for m in _maps(item)]
    if not isinstance(value, dict):
        return []
    return [value, *(m for item in value.values() for m in _maps(item))]


def _edited(base: dict[str, Json], edits: list[tuple[int, str, Json]]) -> dict[str, Json]:
    obj = clone(base)
    for index, key, value in edits:
        maps = _maps(obj)
        maps[index % len(maps)][key] = value
    return obj


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(range(len(BASES))), EDITS, st.sampled_from(range(4)))
def test_same_fields_found_and_dropped_as_a_plain_walk(
    base: int, edits: list[tuple[int, str, Json]], which: int
) -> None:
    obj = _edited(BASES[base], edits)
    node = _nodes()[which]
    expected: list[str] = []
    plain_walk(obj, node, "", expected, False)
    assert unknown_fields(obj, node) == expected
    kept, plain_kept = clone(obj), clone(obj)
    assert unknown_fields(kept, node, remove=True) == expected
    plain_walk(plain_kept, node, "", [], True)
    assert kept == plain_kept


def test_skipped_maps_are_the_ones_that_cannot_hold_unknown_fields() -> None:
    node = kind_node("apps", "v1", "Deployment")
    assert node is not None
    meta = node.field("metadata")
    assert meta.field("labels").strict_inert and meta.field("annotations").strict_inert
    assert not meta.field("ownerReferences").strict_inert
    container = node.at("spec", "template", "spec", "containers", "[]")
    assert not container.strict_inert and container.field("image").strict_inert
    assert container.field("args").strict_inert  # a list of strings
    obj: dict[str, Any] = {
        "metadata": {"labels": {"a": {"b": 1}}, "ownerReferences": [{"uidd": "1"}]},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "imagee": "x"}]}}},
    }
    assert unknown_fields(obj, node, remove=True) == [
        "metadata.ownerReferences[0].uidd",
        "spec.template.spec.containers[0].imagee",
    ]
    assert obj["spec"]["template"]["spec"]["containers"] == [{"name": "a"}]

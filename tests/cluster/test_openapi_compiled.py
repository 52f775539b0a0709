"""A schema read once (:class:`orkestra.cluster.openapi.Schema`, what a resource type keeps)
defaults, prunes and validates exactly as walking the schema dict did: the same objects
(keys in the same order) and the same messages in the same order, on random schemas and
values; and a type's schema is read once."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from orkestra.cluster import openapi
from orkestra.cluster.data import clone
from orkestra.cluster.resources import crd_types
from tests.cluster import openapi_reference as reference
from tests.cluster.test_openapi_shapes import crd, version

NAMES = st.sampled_from(["a", "b", "c", "apiVersion", "metadata"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, "", "x", "abc", "10"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=4)),
    max_leaves=25,
)


def _schemas(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys: dict[str, st.SearchStrategy[Any]] = {
        "type": st.sampled_from(["object", "array", "string", "integer", "number", "boolean"]),
        "nullable": st.booleans(),
        "properties": st.dictionaries(NAMES, st.one_of(inner, st.just(True)), max_size=3),
        "additionalProperties": st.one_of(st.booleans(), inner),
        "items": st.one_of(inner, st.just(1)),
        "required": st.lists(st.one_of(NAMES, st.just(3)), max_size=2),
        "enum": st.lists(SCALARS, max_size=3),
        "minimum": st.integers(-2, 2),
        "maximum": st.one_of(st.integers(-2, 2), st.just(True)),
        "maxLength": st.integers(0, 3),
        "minLength": st.integers(0, 3),
        "pattern": st.sampled_from(["^a", "b$", "(", "^[0-9]+$"]),
        "maxProperties": st.integers(0, 2),
        "maxItems": st.integers(0, 2),
        "minItems": st.integers(0, 2),
        "allOf": st.lists(inner, max_size=2),
        "anyOf": st.lists(st.one_of(inner, st.just({})), max_size=2),
        "oneOf": st.lists(inner, max_size=2),
        "default": VALUES,
        "x-kubernetes-preserve-unknown-fields": st.booleans(),
        "x-kubernetes-int-or-string": st.booleans(),
    }
    return st.fixed_dictionaries({}, optional=keys)


SCHEMAS: st.SearchStrategy[dict[str, Any]] = st.recursive(st.just({}), _schemas, max_leaves=12)


def _same(got: object, expected: object) -> None:
    assert json.dumps(got) == json.dumps(expected)  # equal, keys in the same order


@settings(max_examples=600, deadline=None)
@given(SCHEMAS, VALUES, st.booleans())
@example({"additionalProperties": {"properties": {"a": {"default": 1}}}}, {"b": {}}, False)
def test_the_same_as_walking_the_schema(schema: dict[str, Any], value: Any, root: bool) -> None:
    compiled = openapi.Schema(schema)
    assert compiled.validate(value, "spec") == reference.validate(value, schema, "spec")
    assert openapi.validate(value, schema) == reference.validate(value, schema)
    _same(compiled.apply_defaults(clone(value)), reference.apply_defaults(clone(value), schema))
    _same(
        compiled.prune(clone(value), root=root),
        reference.prune(clone(value), schema, root=root),
    )
    _same(
        openapi.apply_defaults(clone(value), schema),
        reference.apply_defaults(clone(value), schema),
    )
    _same(openapi.prune(clone(value), schema), reference.prune(clone(value), schema))


def test_a_type_reads_its_schema_once() -> None:
    size = {"type": "integer", "default": 1}
    spec = {"type": "object", "properties": {"size": size}}
    (rt,) = crd_types(crd(version({"type": "object", "properties": {"spec": spec}})))
    assert rt.rules is rt.rules and rt.rules.child("spec") is rt.rules.child("spec")
    assert rt.rules.apply_defaults({"spec": {}}) == {"spec": {"size": 1}}
    assert rt.rules.validate({"spec": {"size": "big"}}) == [
        'spec.size: Invalid value: "str": spec.size in body must be of type integer: "str"'
    ]

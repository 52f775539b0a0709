"""CRD manifests and schemas of the wrong shape: reported as the API server would refuse
them, and never a crash in defaulting, pruning, validation or schema navigation; ``pattern``
is RE2, linear in the value."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orkestra.cluster import openapi
from orkestra.cluster.kubeschema import UNKNOWN, crd_node
from orkestra.cluster.strict import unknown_fields


def crd(spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "shops.demo.io"},
        "spec": spec,
    }


def version(schema: Any) -> dict[str, Any]:
    return {
        "group": "demo.io",
        "names": {"kind": "Shop", "plural": "shops"},
        "versions": [
            {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}
        ],
    }


SCHEMA = "spec", "versions", 0, "schema", "openAPIV3Schema"


def test_a_good_crd_has_no_problems() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "additionalProperties": True,
                "required": ["size"],
                "properties": {
                    "size": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
                    "any": {
                        "x-kubernetes-int-or-string": True,
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                    },
                },
            }
        },
    }
    assert openapi.crd_problems(crd(version(schema))) == []


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        ([1, 2], [(("spec",), "must be a mapping (CustomResourceDefinitionSpec), not a list")]),
        (
            {"names": "Shop", "versions": {}},
            [
                (("spec", "names"), "must be a mapping with kind and plural, not a string"),
                (("spec", "versions"), "must be a list of versions, not a mapping"),
            ],
        ),
        (
            {"group": 5, "names": {"kind": ["Shop"]}, "versions": ["v1"]},
            [
                (("spec", "group"), "must be a string, not a number"),
                (("spec", "names", "kind"), "must be a string, not a list"),
                (("spec", "versions", 0), "a version must be a mapping, not a string"),
            ],
        ),
    ],
)
def test_manifest_shapes(spec: Any, found: list[tuple[Any, str]]) -> None:
    assert openapi.crd_problems(crd(spec)) == found


@pytest.mark.parametrize(
    ("schema", "where", "message"),
    [
        (
            {"properties": {"x": True}},
            ("properties", "x"),
            "must be a schema (a mapping), not a boolean",
        ),
        ({"properties": ["x"]}, ("properties",), "must be a mapping of schemas, not a list"),
        ({"items": [{"type": "string"}]}, ("items",), "must be a schema (a mapping), not a list"),
        (
            {"additionalProperties": "yes"},
            ("additionalProperties",),
            "must be a schema (a mapping), not a string",
        ),
        ({"allOf": {"type": "string"}}, ("allOf",), "must be a list of schemas, not a mapping"),
        ({"anyOf": [False]}, ("anyOf", 0), "must be a schema (a mapping), not a boolean"),
        (
            {"type": "str"},
            ("type",),
            "'str' is not a type; expected one of object, array, string, integer, number, boolean",
        ),
        ({"maxLength": "5"}, ("maxLength",), "must be a non-negative integer, not '5'"),
        ({"minimum": "0"}, ("minimum",), "must be a number, not a string"),
        ({"nullable": "yes"}, ("nullable",), "must be true or false, not a string"),
        ({"required": "size"}, ("required",), "must be a list, not a string"),
        (
            {"pattern": "(?<=a)b"},
            ("pattern",),
            "must be a valid regular expression, but isn't: "
            "invalid regular expression '(?<=a)b': invalid perl operator: (?<= (RE2, the syntax of "
            "Go and Kubernetes, has no lookbehind)",
        ),
    ],
)
def test_schema_shapes(schema: dict[str, Any], where: tuple[Any, ...], message: str) -> None:
    assert openapi.crd_problems(crd(version(schema))) == [(SCHEMA + where, message)]
    assert openapi.field_path(SCHEMA + where).startswith("spec.versions[0].schema.")


BROKEN: dict[str, Any] = {
    "type": "object",
    "required": 5,
    "maxProperties": "2",
    "properties": {
        "flag": True,
        "spec": {"type": ["object"], "properties": ["a"], "allOf": "x", "items": [1]},
        "size": {
            "type": "string",
            "maxLength": "3",
            "minLength": None,
            "pattern": "(a)\\1",
            "enum": "abc",
        },
        "n": {"type": "integer", "minimum": "0", "default": 1},
    },
}


def test_broken_schemas_never_crash_the_api_server_logic() -> None:
    value = {"flag": 1, "spec": {"a": 1}, "size": "aaaa", "n": 5, "other": 2}
    openapi.apply_defaults(value, BROKEN)
    errors = openapi.validate(value, BROKEN)
    assert errors == [
        "size: Invalid value: \"aaaa\": invalid regular expression '(a)\\\\1': "
        "invalid escape sequence: \\1 (RE2, the syntax of Go and Kubernetes, has "
        "no backreferences)"
    ]
    assert openapi.prune(value, BROKEN, root=True) == {"spec": {"a": 1}, "size": "aaaa", "n": 5}
    for schema in (True, [1], "x"):
        assert openapi.validate(1, schema) == []  # type: ignore[arg-type]
        assert openapi.prune({"a": 1}, schema) == {"a": 1}  # type: ignore[arg-type]


def test_schema_navigation_reads_a_non_schema_as_none() -> None:
    node = crd_node(BROKEN)
    assert node.field("flag") is UNKNOWN
    assert node.field("spec").field("a") is UNKNOWN
    assert crd_node(True).field("anything") is UNKNOWN  # type: ignore[arg-type]
    assert unknown_fields({"flag": {"x": 1}, "spec": {"a": {"b": 1}}, "zzz": 1}, node) == ["zzz"]


def test_pattern_is_linear_in_the_value() -> None:
    schema = {"type": "object", "properties": {"size": {"type": "string", "pattern": "^(a+)+$"}}}
    start = time.perf_counter()
    errors = openapi.validate({"size": "a" * 100_000 + "!"}, schema)
    assert time.perf_counter() - start < 5
    assert errors and "should match '^(a+)+$'" in errors[0]
    assert openapi.validate({"size": "aaa"}, schema) == []
    assert openapi.validate({"size": "a\n"}, {"properties": {"size": {"pattern": "^a$"}}})

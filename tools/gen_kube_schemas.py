#!/usr/bin/env python3
"""Vendor the OpenAPI v3 schemas of Kubernetes' built-in kinds.

Reads the JSON schemas shipped by the PyPI package ``kubernetes-validate`` (a ``$defs`` map in
JSON-Schema form, generated from Kubernetes' own OpenAPI document), keeps the definitions the
kinds in :data:`orkestra.cluster.resources.BUILTIN_TYPES` need (transitively, with their
``...List`` kinds and the meta types an API server answers with), turns them back into
OpenAPI v3 component form and writes ``orkestra/cluster/schemas/kubernetes-v1.32.json.gz``:

- ``$ref`` points at ``#/components/schemas/<name>``; a reference with sibling keys (a
  description, a patch strategy) becomes ``allOf: [{$ref}]`` beside them, as in the API
  server's ``/openapi/v3``;
- ``"type": ["string", "null"]`` becomes ``"type": "string"``; ``null`` leaves enums;
- the one-value ``enum`` kubernetes-validate adds to ``apiVersion``/``kind`` is dropped;
- ``IntOrString`` keeps its ``oneOf`` and gets ``x-kubernetes-int-or-string: true``;
- descriptions, formats, enums, ``required``, defaults and every ``x-kubernetes-*``
  extension are kept;
- the defaults of list-map key fields the JSON-Schema form lost (a port's ``protocol``) are
  put back, as the API server's own ``/openapi/v3`` has them: server-side apply fills a
  missing key from them.

The output is deterministic: sorted keys, compact separators, gzip mtime 0. Run it with
``make kube-schemas`` (which installs kubernetes-validate into the venv first).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orkestra.cluster.resources import BUILTIN_TYPES  # noqa: E402

VERSION = "v1.32.0"
OUTPUT = ROOT / "orkestra" / "cluster" / "schemas" / "kubernetes-v1.32.json.gz"
SOURCE_REF = "#/$defs/"
TARGET_REF = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
# What an API server answers with besides the kinds themselves.
EXTRA_ROOTS = tuple(
    META + name
    for name in (
        "ObjectMeta",
        "ListMeta",
        "Status",
        "StatusDetails",
        "StatusCause",
        "DeleteOptions",
        "Preconditions",
        "WatchEvent",
        "APIResource",
        "APIResourceList",
        "APIGroup",
        "APIGroupList",
        "APIVersions",
        "GroupVersionForDiscovery",
        "ServerAddressByClientCIDR",
        "ManagedFieldsEntry",
        "Patch",
    )
) + (
    "io.k8s.apimachinery.pkg.version.Info",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.api.policy.v1.Eviction",
)


# List-map keys with a default in Kubernetes' OpenAPI that kubernetes-validate drops.
KEY_DEFAULTS = {
    ("io.k8s.api.core.v1.ContainerPort", "protocol"): "TCP",
    ("io.k8s.api.core.v1.ServicePort", "protocol"): "TCP",
}


def source_file() -> Path:
    """``_definitions.json`` of kubernetes-validate, as installed in this interpreter."""
    import kubernetes_validate  # type: ignore[import-untyped,unused-ignore]  # not a dependency

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    return base / f"{VERSION}-local" / "_definitions.json"


def _gvks(schema: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (g.get("group", ""), g.get("version", ""), g.get("kind", ""))
        for g in schema.get("x-kubernetes-group-version-kind") or []
    ]


def roots(defs: dict[str, dict[str, Any]]) -> list[str]:
    """The definitions of the built-in kinds, their lists and the meta types."""
    by_gvk: dict[tuple[str, str, str], str] = {}
    for name, schema in defs.items():
        for gvk in _gvks(schema):
            by_gvk.setdefault(gvk, name)
    wanted = []
    for rt in BUILTIN_TYPES:
        for kind in (rt.kind, rt.kind + "List"):
            found = by_gvk.get((rt.group, rt.version, kind))
            if found is None:
                raise SystemExit(f"no definition for {rt.group}/{rt.version} {kind}")
            wanted.append(found)
    return wanted + [name for name in EXTRA_ROOTS if name in defs]


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SOURCE_REF):
            found.add(ref[len(SOURCE_REF) :])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def closure(defs: dict[str, dict[str, Any]], start: list[str]) -> set[str]:
    """Every definition reachable from ``start`` through ``$ref``."""
    keep: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        found: set[str] = set()
        _refs(defs[name], found)
        todo.extend(found - keep)
    return keep


def _type(value: Any) -> Any:
    if isinstance(value, list):
        types = [t for t in value if t != "null"]
        return types[0] if len(types) == 1 else types
    return value


def convert(node: dict[str, Any], *, typed_kind: bool = False) -> dict[str, Any]:
    """One schema node in OpenAPI v3 form (see the module docstring)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = TARGET_REF + value[len(SOURCE_REF) :]
        elif key == "type":
            out[key] = _type(value)
        elif key == "enum":
            out[key] = [v for v in value if v is not None]
        elif key == "properties":
            out[key] = {name: _property(name, prop, typed_kind) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = convert(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [convert(v) for v in value]
        else:
            out[key] = value
    if "$ref" in out and len(out) > 1:
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


def _property(name: str, prop: dict[str, Any], typed_kind: bool) -> dict[str, Any]:
    converted = convert(prop)
    # kubernetes-validate pins apiVersion/kind of a kind to one value; OpenAPI does not.
    if typed_kind and name in ("apiVersion", "kind") and len(converted.get("enum", ())) == 1:
        del converted["enum"]
    return converted


def build(defs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    keep = closure(defs, roots(defs))
    schemas = {}
    for name in sorted(keep):
        schema = convert(defs[name], typed_kind=bool(_gvks(defs[name])))
        if name == INT_OR_STRING:
            schema["x-kubernetes-int-or-string"] = True
        for (owner, field), value in KEY_DEFAULTS.items():
            if owner == name:
                schema["properties"][field]["default"] = value
        schemas[name] = schema
    return {
        "openapi": "3.0.0",
        "info": {
            "title": "Kubernetes",
            "version": VERSION,
            "x-source": "kubernetes-validate " + VERSION + "-local",
        },
        "components": {"schemas": schemas},
    }


def encode(document: dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted keys, compact JSON, gzip with mtime 0."""
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="kubernetes-validate _definitions.json")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    source = args.source or source_file()
    defs = json.loads(source.read_text())["$defs"]
    document = build(defs)
    data = encode(document)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    count = len(document["components"]["schemas"])
    print(f"{args.output}: {count} definitions, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

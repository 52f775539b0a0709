"""``crdFile``: read the CRD manifest, cross-check it with ``apiTypes``, fill the gaps.

The file must be a regular file inside the katalog's directory (``..`` and symbolic links
resolved; ``ORK_ALLOWED_ROOTS`` adds directories), within the YAML bounds of
:mod:`orkestra.limits`. The manifest must have the shape the API server decodes (``spec`` a
mapping, every schema a mapping, valid RE2 patterns: :func:`orkestra.cluster.openapi.
crd_problems`), reported at its lines. Its group, kinds, plural, versions and scope are then
compared with what the katalog declares; fields the katalog leaves out are taken from the
manifest. The parsed manifest is kept on the composition (the simulator uses its OpenAPI
schema for defaulting/validation).
"""

from __future__ import annotations

from typing import TypedDict, cast

from orkestra.cluster.openapi import crd_problems
from orkestra.compose.composed import Composed
from orkestra.kubeobjects import Json, KubeObject
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.shapes import CrdEntry
from orkestra.model.source import SourceDoc, load_documents, reference_problem


class CrdIdentity(TypedDict):
    """What a CRD manifest says the katalog's ``apiTypes`` and ``namespaced`` must match."""

    group: str | None
    kind: str | None
    plural: str | None
    versions: list[str]
    version: str | None  # the storage version (else the first)
    namespaced: bool


def find_crd(sources: list[SourceDoc]) -> SourceDoc | None:
    for source in sources:
        if isinstance(source.data, dict) and source.data.get("kind") == "CustomResourceDefinition":
            return source
    return None


def _text(value: Json) -> str | None:
    return value if isinstance(value, str) else None


def crd_identity(crd: KubeObject) -> CrdIdentity:
    """group, kind, plural, versions, storage version and scope of a CRD manifest that
    :func:`~orkestra.cluster.openapi.crd_problems` accepts (names a mapping, versions a
    list of mappings, the names and version names strings)."""
    spec = crd.get("spec") or {}
    names = spec.get("names")
    listed = spec.get("versions")
    versions = [v for v in listed if isinstance(v, dict)] if isinstance(listed, list) else []
    storage = next(
        (v.get("name") for v in versions if v.get("storage")),
        versions[0].get("name") if versions else None,
    )
    return {
        "group": _text(spec.get("group")),
        "kind": _text(names.get("kind")) if isinstance(names, dict) else None,
        "plural": _text(names.get("plural")) if isinstance(names, dict) else None,
        "versions": [v["name"] for v in versions],
        "version": storage,
        "namespaced": spec.get("scope", "Namespaced") != "Cluster",
    }


def apply_crd_file(
    doc: Document, entry: CrdEntry, crd_path: YamlPath, composed: Composed
) -> list[Problem]:
    ref = entry.get("crdFile")
    if not isinstance(ref, str) or "{{" in ref:
        return []
    if ref.startswith(("https://", "http://")):
        return [
            doc.problem(
                crd_path + ("crdFile",), f"{ref} is remote and was not checked", severity="warning"
            )
        ]
    file = doc.resolve_path(ref)
    refused = reference_problem(file, [doc.directory])
    if refused is not None:
        return [
            doc.problem(
                crd_path + ("crdFile",),
                f'cannot read crdFile "{ref}": {refused[0]}',
                hint=refused[1],
            )
        ]
    try:
        sources = load_documents(file, display=ref)
    except PatternError as exc:
        first = exc.problems[0]
        summary = doc.problem(
            crd_path + ("crdFile",),
            f'cannot read crdFile "{ref}": {first.message}',
            hint=first.hint,
        )
        return [summary, *exc.problems] if first.line else [summary]
    found = find_crd(sources)
    if found is None:
        return [
            doc.problem(
                crd_path + ("crdFile",),
                f'"{ref}" holds no CustomResourceDefinition',
                expected="a manifest with kind: CustomResourceDefinition (apiextensions.k8s.io/v1)",
            )
        ]
    shape = [
        found.problem(
            path,
            message,
            expected="what apiextensions.k8s.io/v1 decodes",
            hint="the API server would refuse this CustomResourceDefinition",
        )
        for path, message in crd_problems(found.data)
    ]
    if shape:
        return shape
    manifest = cast(KubeObject, found.data)  # crd_problems found it decodes as a CRD
    identity = crd_identity(manifest)
    name = crd_path[-1]
    composed.crd_manifests[str(name)] = manifest
    api = entry.setdefault("apiTypes", {})
    problems: list[Problem] = []
    for key in ("group", "kind", "plural"):
        declared = identity[key]
        if declared is None:
            problems.append(found.problem(("spec",), f"the CRD has no {key}"))
        elif key not in api:
            api[key] = declared
        elif api[key] != declared:
            problems.append(
                doc.problem(
                    crd_path + ("apiTypes", key),
                    f'{key} "{api[key]}" does not match {ref} ("{declared}")',
                    hint=f"set apiTypes.{key} to {declared}",
                )
            )
    if "version" not in api and identity["version"]:
        api["version"] = identity["version"]
    elif api.get("version") not in identity["versions"]:
        problems.append(
            doc.problem(
                crd_path + ("apiTypes", "version"),
                f'version "{api.get("version")}" is not served by {ref}',
                expected=f"one of {', '.join(map(str, identity['versions']))}",
            )
        )
    if "namespaced" in entry and entry["namespaced"] != identity["namespaced"]:
        scope = "Namespaced" if identity["namespaced"] else "Cluster"
        problems.append(
            doc.problem(
                crd_path + ("namespaced",),
                f"namespaced: {str(entry['namespaced']).lower()} contradicts "
                f"{ref} (scope: {scope})",
            )
        )
    elif not identity["namespaced"]:
        entry["namespaced"] = False
    return problems

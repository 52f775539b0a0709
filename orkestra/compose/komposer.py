"""Compose a Komposer: import katalogs, then apply per-CRD overrides.

Resolution order is registry, files, helm, then ``spec.crds`` overrides. An override may set
any CRD-entry field and wins by deep merge (maps merge, lists and scalars are replaced);
``enabled: false`` disables an imported operator. An override naming no imported CRD, and the
same CRD name arriving from two imports, are errors. Registry and Helm imports need network
access and ``ork pull``; this version reports them precisely instead of pretending.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from orkestra.compose.composed import Composed
from orkestra.compose.katalog import compose_katalog
from orkestra.compose.motifs import MotifResolver
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath, did_you_mean
from orkestra.model.loader import load_document
from orkestra.model.origins import Origins


def compose_komposer(doc: Document, motifs: MotifResolver | None = None) -> Composed:
    resolver = motifs or MotifResolver()
    data = copy.deepcopy(doc.data)
    origins = Origins(doc.source)
    origins.merge(doc.origins, (), ())
    composed = Composed(doc, dict(data.get("metadata") or {}), {}, origins,
                        documents=[doc], warnings=list(doc.warnings))
    composed.top = {k: v for k, v in data.items()
                    if k in ("security", "notes", "profiles", "notification", "providers",
                             "gateway", "lifecycle", "policy")}
    problems: list[Problem] = []
    imports = data.get("imports") or {}
    for section in ("registry", "helm"):
        for i, _ in enumerate(imports.get(section) or []):
            problems.append(doc.problem(
                ("imports", section, i), f"{section} imports need `ork pull`, which this "
                "version does not have yet", hint="import the katalog file directly under "
                "imports.files"))
    sources: dict[str, str] = {}
    for i, entry in enumerate(imports.get("files") or []):
        try:
            _import_file(doc, entry, ("imports", "files", i), composed, sources, resolver)
        except PatternError as exc:
            problems.extend(exc.problems)
    for name, override in ((data.get("spec") or {}).get("crds") or {}).items():
        problems += _override(doc, name, override, composed)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PatternError(errors)
    return composed


def _import_file(doc: Document, entry: Any, path: YamlPath, composed: Composed,
                 sources: dict[str, str], resolver: MotifResolver) -> None:
    ref = entry if isinstance(entry, str) else entry["url"]
    ref = os.path.expandvars(ref)
    if ref.startswith(("https://", "http://")):
        raise PatternError([doc.problem(path, f"remote katalog {ref} cannot be fetched by "
                                              "this version", hint="download it and import "
                                              "the local file")])
    katalog = load_document(doc.resolve_path(ref), kinds=("Katalog", "Komposer"), display=ref)
    if katalog.kind == "Komposer":
        raise PatternError([doc.problem(path, f'"{ref}" is a Komposer; imports.files accepts '
                                              "only katalogs",
                                        hint="import its katalog files, or use a registry "
                                             "import with useKomposer: true")])
    sub = compose_katalog(katalog, resolver)
    composed.documents.extend(d for d in sub.documents if d not in composed.documents)
    composed.warnings.extend(sub.warnings)
    composed.crd_manifests.update(sub.crd_manifests)
    problems = []
    for name, crd in sub.crds.items():
        if name in composed.crds:
            problems.append(doc.problem(path, f'CRD "{name}" from {ref} is also imported from '
                                              f"{sources[name]}",
                                        hint="a CRD name must come from one import only; "
                                             "rename or disable one"))
            continue
        for key, value in (("katalogName", katalog.name), ("katalogVersion", katalog.version),
                           ("katalogDescription", katalog.metadata.get("description", ""))):
            if value:
                crd.setdefault(key, value)
        composed.crds[name] = crd
        sources[name] = ref
        composed.origins.merge(sub.origins, ("spec", "crds", name), ("spec", "crds", name))
    _merge_top(composed, sub)
    if problems:
        raise PatternError(problems)


def _merge_top(composed: Composed, sub: Composed) -> None:
    """Komposer security wins; notes, providers and notification teams are unions."""
    for key in ("security",):
        if key not in composed.top and key in sub.top:
            composed.top[key] = sub.top[key]
    notes = sub.top.get("notes", {}).get("functions") or []
    if notes:
        mine = composed.top.setdefault("notes", {}).setdefault("functions", [])
        known = {n["name"] for n in mine}
        mine.extend(n for n in notes if n["name"] not in known)
    providers = sub.top.get("providers") or []
    if providers:
        mine_p = composed.top.setdefault("providers", [])
        known_p = {p["name"] for p in mine_p}
        mine_p.extend(p for p in providers if p["name"] not in known_p)


def _override(doc: Document, name: str, override: dict[str, Any],
              composed: Composed) -> list[Problem]:
    path: YamlPath = ("spec", "crds", name)
    if name not in composed.crds:
        return [doc.problem(path, f'override for unknown CRD "{name}"', key=True,
                            expected=f"one of {', '.join(sorted(composed.crds)) or '(none)'}",
                            hint=did_you_mean(name, composed.crds)
                            or "overrides apply to CRDs the imports bring in")]
    deep_merge(composed.crds[name], copy.deepcopy(override), path, composed.origins, doc)
    return []


def deep_merge(base: dict[str, Any], override: dict[str, Any], path: YamlPath,
               origins: Origins, doc: Document) -> None:
    for key, value in override.items():
        here = path + (key,)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value, here, origins, doc)
        else:
            base[key] = value
            origins.add(here, *doc.origins.resolve(here))

"""Compose a Komposer: import katalogs, then apply per-CRD overrides.

Resolution order is registry, files, helm, then ``spec.crds`` overrides. An override may set
any CRD-entry field and wins by deep merge (maps merge, lists and scalars are replaced);
``enabled: false`` disables an imported operator. An override naming no imported CRD, and the
same CRD name arriving from two imports, are errors.

Registry imports (``oci://…:v1``, ``name@v1``, ``name@^1.2``, ``{url, version, useKomposer}``)
are read from the local cache (pulled on first use), by the digests of ``komposer.lock``
when one sits beside the komposer; an imported pattern that is deprecated gives a warning
with its migration advice unless ``lifecycle.accept.patterns`` acknowledges it. Helm and Git
imports are reported precisely as unsupported rather than ignored.
"""

from __future__ import annotations

import copy
import datetime
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from orkestra.compose.admission import fold_admission
from orkestra.compose.composed import Composed, top_blocks
from orkestra.compose.katalog import compose_katalog
from orkestra.compose.motifs import MotifResolver
from orkestra.model.deprecation import lifecycle_of
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath, did_you_mean
from orkestra.model.imports import LOCK_FILE
from orkestra.model.loader import load_document
from orkestra.model.origins import Origins
from orkestra.model.shapes import CrdEntry, FileImport, PatternData, RegistryImport

if TYPE_CHECKING:
    from orkestra.registry.policy import ImportPolicy
    from orkestra.registry.sources import Located


def compose_komposer(doc: Document, motifs: MotifResolver | None = None) -> Composed:
    resolver = motifs or MotifResolver()
    data = copy.deepcopy(doc.komposer)
    origins = Origins(doc.source)
    origins.merge(doc.origins, (), ())
    composed = Composed(
        source=doc,
        metadata=(data.get("metadata") or {}).copy(),
        crds={},
        origins=origins,
        documents=[doc],
        warnings=list(doc.warnings),
    )
    composed.top = top_blocks(
        data,
        (
            "security",
            "notes",
            "profiles",
            "notification",
            "providers",
            "gateway",
            "lifecycle",
            "policy",
        ),
    )
    problems: list[Problem] = []
    imports = data.get("imports") or {}
    sources: dict[str, str] = {}
    if imports.get("registry"):
        resolver.use_lock(doc.directory / LOCK_FILE)
        policy = _policy(doc)
        for i, entry in enumerate(imports["registry"]):
            try:
                _import_registry(
                    doc,
                    entry,
                    ("imports", "registry", i),
                    composed,
                    sources,
                    resolver,
                    policy=policy,
                )
            except PatternError as exc:
                problems.extend(exc.problems)
    for i, ref in enumerate(imports.get("files") or []):
        try:
            _import_file(doc, ref, ("imports", "files", i), composed, sources, resolver)
        except PatternError as exc:
            problems.extend(exc.problems)
    for i, _ in enumerate(imports.get("helm") or []):
        problems.append(
            doc.problem(
                ("imports", "helm", i),
                "Helm imports are not supported by this version",
                hint="render the chart and import its katalog file under imports.files",
            )
        )
    for name, override in ((data.get("spec") or {}).get("crds") or {}).items():
        problems += _override(doc, name, override, composed)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PatternError(errors)
    return composed


def _import_registry(
    doc: Document,
    entry: str | RegistryImport,
    path: YamlPath,
    composed: Composed,
    sources: dict[str, str],
    resolver: MotifResolver,
    *,
    policy: ImportPolicy | None,
) -> None:
    if isinstance(entry, str):
        url, version, use_komposer = entry, "", False
    else:
        url, version = entry["url"], entry.get("version", "")
        use_komposer = bool(entry.get("useKomposer"))
        if entry.get("katalog"):
            raise PatternError(
                [
                    doc.problem(
                        path + ("katalog",),
                        "Git registry imports "
                        "(katalog: {name: {branch|version|sha}}) are not "
                        "supported",
                        hint="import published OCI references: oci://HOST/REPO/NAME:VERSION",
                    )
                ]
            )
    located = resolver.locate(os.path.expandvars(url), "Katalog", doc, path, version)
    _check_policy(doc, path, located, resolver, policy)
    name = "komposer.yaml" if use_komposer else "katalog.yaml"
    if not located.file(name).is_file():
        raise PatternError(
            [
                doc.problem(
                    path,
                    f"{located.ref} has no {name}",
                    hint="drop useKomposer to import its katalog" if use_komposer else "",
                )
            ]
        )
    display = f"{located.ref}/{name}"
    sub_doc = load_document(
        located.file(name), kinds=(doc.kind if use_komposer else "Katalog",), display=display
    )
    sub = (
        compose_komposer(sub_doc, resolver) if use_komposer else compose_katalog(sub_doc, resolver)
    )
    _merge_import(doc, path, str(located.ref), sub_doc, sub, composed, sources)
    composed.warnings.extend(_deprecation_warnings(doc, path, located))


def _policy(doc: Document) -> ImportPolicy | None:
    """The komposer's import ``policy`` (read once for all its imports); None without one,
    so that signature checks (and cryptography) load only for a komposer that has one."""
    if not doc.data.get("policy"):
        return None
    from orkestra.registry.policy import ImportPolicy

    policy = ImportPolicy.of(doc.data)
    return policy if policy.active else None


def _check_policy(
    doc: Document,
    path: YamlPath,
    located: Located,
    resolver: MotifResolver,
    policy: ImportPolicy | None,
) -> None:
    """Refuse an import that does not meet the komposer's ``policy``."""
    if policy is None:
        return
    reasons = policy.check(resolver.registry.client, located)
    if reasons:
        raise PatternError(
            [
                doc.problem(
                    path,
                    f"{located.ref} does not meet the komposer's policy: {'; '.join(reasons)}",
                    hint="import a version that does (ork inspect NAME --versions), or change "
                    "policy: in the komposer",
                )
            ]
        )


def _import_file(
    doc: Document,
    entry: str | FileImport,
    path: YamlPath,
    composed: Composed,
    sources: dict[str, str],
    resolver: MotifResolver,
) -> None:
    ref = entry if isinstance(entry, str) else entry["url"]
    ref = os.path.expandvars(ref)
    if ref.startswith(("https://", "http://")):
        raise PatternError(
            [
                doc.problem(
                    path,
                    f"remote katalog {ref} cannot be fetched by this version",
                    hint="download it and import the local file",
                )
            ]
        )
    katalog = load_document(doc.resolve_path(ref), kinds=("Katalog", "Komposer"), display=ref)
    if katalog.kind == "Komposer":
        raise PatternError(
            [
                doc.problem(
                    path,
                    f'"{ref}" is a Komposer; imports.files accepts only katalogs',
                    hint="import its katalog files, or use a registry "
                    "import with useKomposer: true",
                )
            ]
        )
    _merge_import(doc, path, ref, katalog, compose_katalog(katalog, resolver), composed, sources)


def _merge_import(
    doc: Document,
    path: YamlPath,
    ref: str,
    katalog: Document,
    sub: Composed,
    composed: Composed,
    sources: dict[str, str],
) -> None:
    composed.documents.extend(d for d in sub.documents if d not in composed.documents)
    composed.warnings.extend(sub.warnings)
    composed.crd_manifests.update(sub.crd_manifests)
    problems = []
    for name, crd in sub.crds.items():
        if name in composed.crds:
            problems.append(
                doc.problem(
                    path,
                    f'CRD "{name}" from {ref} is also imported from {sources[name]}',
                    hint="a CRD name must come from one import only; rename or disable one",
                )
            )
            continue
        description = katalog.metadata.get("description", "")
        if katalog.name:
            crd.setdefault("katalogName", katalog.name)
        if katalog.version:
            crd.setdefault("katalogVersion", katalog.version)
        if description:
            crd.setdefault("katalogDescription", description)
        composed.crds[name] = crd
        composed.code_roots[name] = sub.code_root(name)
        sources[name] = ref
        composed.origins.merge(sub.origins, ("spec", "crds", name), ("spec", "crds", name))
    _merge_top(composed, sub)
    if problems:
        raise PatternError(problems)


def _deprecation_warnings(doc: Document, path: YamlPath, located: Located) -> list[Problem]:
    meta = located.info.metadata
    notice = meta.deprecation
    if notice is None or accepts(doc.data, meta.name, meta.author, meta.version):
        return []
    today = datetime.date.today()
    state = (
        "reached end of life on " + str(notice.end_of_life)
        if notice.state(today) == "eol"
        else "is deprecated"
    )
    advice = f"migrate to {notice.migrated_to}" if notice.migrated_to else "plan a migration"
    return [
        doc.problem(
            path,
            f"imported pattern {meta.name} {meta.version} {state}"
            + (f": {notice.message}" if notice.message else ""),
            severity="warning",
            hint=f"{advice}; or acknowledge it under lifecycle.accept.patterns",
        )
    ]


def accepts(data: PatternData, name: str, author: str, version: str) -> bool:
    """Whether ``lifecycle.accept.patterns`` acknowledges this pattern version."""
    for entry in (lifecycle_of(data).get("accept") or {}).get("patterns") or []:
        if entry.get("name") != name:
            continue
        if entry.get("author") and entry["author"] != author:
            continue
        wanted = entry.get("version-range") or entry.get("version")
        if wanted and not _satisfies(version, wanted):
            continue
        return True
    return False


def _satisfies(version: str, constraint: str) -> bool:
    from orkestra.semver import SemverError, satisfies  # only for a versioned import

    try:
        return satisfies(version, constraint)
    except SemverError:
        return version == constraint


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


def _override(doc: Document, name: str, override: CrdEntry, composed: Composed) -> list[Problem]:
    path: YamlPath = ("spec", "crds", name)
    if name not in composed.crds:
        return [
            doc.problem(
                path,
                f'override for unknown CRD "{name}"',
                key=True,
                expected=f"one of {', '.join(sorted(composed.crds)) or '(none)'}",
                hint=did_you_mean(name, composed.crds)
                or "overrides apply to CRDs the imports bring in",
            )
        ]
    override = copy.deepcopy(override)
    problems = fold_admission(doc, override, path, doc.origins, composed.origins)
    deep_merge(composed.crds[name], override, path, composed.origins, doc)
    return problems


def deep_merge(
    base: Mapping[str, object],
    override: Mapping[str, object],
    path: YamlPath,
    origins: Origins,
    doc: Document,
) -> None:
    """Merge ``override`` into ``base`` in place: mappings merge key by key, any other value
    replaces the one in ``base``."""
    assert isinstance(base, dict)  # merged in place
    for key, value in override.items():
        here = path + (key,)
        current = base.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            deep_merge(current, value, here, origins, doc)
        else:
            base[key] = value
            origins.add(here, *doc.origins.resolve(here))

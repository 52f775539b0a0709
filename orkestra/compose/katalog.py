"""Compose one katalog: includes, katalog-wide imports, per-CRD motif imports (the CRD's
``imports``, then its ``operatorBox.reconcile.imports``)."""

from __future__ import annotations

import copy
from typing import Literal, TypeVar

from orkestra.compose.admission import fold_admission
from orkestra.compose.composed import Composed, top_blocks
from orkestra.compose.crdfile import apply_crd_file
from orkestra.compose.includes import expand_watch_includes, merge_profiles, resolve_includes
from orkestra.compose.motifs import Expansion, MotifResolver, Placed, bind_inputs, expand
from orkestra.kubeobjects import Json
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.imports import CRD_IMPORTS
from orkestra.model.origins import Origins
from orkestra.model.shapes import (
    CrdEntry,
    Declaration,
    MotifImportSpec,
    Mutation,
    ReconcileBlock,
    TopLevel,
    Validation,
)
from orkestra.model.source import SourceDoc

ItemT = TypeVar("ItemT")
SectionT = TypeVar("SectionT", Validation, Mutation)


def compose_katalog(doc: Document, motifs: MotifResolver | None = None) -> Composed:
    """Expand a Katalog document; raises PatternError listing every problem found."""
    resolver = motifs or MotifResolver()
    data = copy.deepcopy(doc.katalog)
    origins = Origins(doc.source)
    origins.merge(doc.origins, (), ())
    problems: list[Problem] = []
    problems += resolve_includes(doc, data, (), origins)
    composed = Composed(
        source=doc,
        metadata=(data.get("metadata") or {}).copy(),
        crds=data["spec"]["crds"],
        origins=origins,
        documents=[doc],
        warnings=list(doc.warnings),
    )
    # everything besides apiVersion, kind, metadata and spec
    composed.top = top_blocks(data, TopLevel.__optional_keys__)
    for i, imp in enumerate(data["spec"].get("imports") or []):
        problems += _katalog_wide_import(doc, imp, ("spec", "imports", i), composed, resolver)
    for name, entry in composed.crds.items():
        crd_path = ("spec", "crds", name)
        problems += apply_crd_file(doc, entry, crd_path, composed)
        problems += expand_watch_includes(doc, entry, crd_path, origins)
        problems += fold_admission(doc, entry, crd_path, origins, origins)
        for where in CRD_IMPORTS:
            for i, imp in enumerate(_take(entry, where)):
                try:
                    _import_motif(doc, imp, crd_path, where + (i,), entry, composed, resolver)
                except PatternError as exc:
                    problems.extend(exc.problems)
    _add_motif_warnings(composed)
    errors = [p for p in problems if p.severity == "error"]
    composed.warnings.extend(p for p in problems if p.severity != "error")
    if errors:
        raise PatternError(errors)
    return composed


def _take(entry: CrdEntry, where: YamlPath) -> list[MotifImportSpec]:
    """Remove and return the import list at ``where`` in a CRD entry."""
    node: object = entry
    for key in where[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    found = node.pop(where[-1], None) if isinstance(node, dict) else None
    return found if isinstance(found, list) else []


def _katalog_wide_import(
    doc: Document,
    imp: MotifImportSpec,
    path: YamlPath,
    composed: Composed,
    resolver: MotifResolver,
) -> list[Problem]:
    """``spec.imports``: only the motif's profiles and notes are taken."""
    try:
        motif = _load_motif(imp, doc, path, resolver)
    except PatternError as exc:
        return list(exc.problems)
    if motif not in composed.documents:
        composed.documents.append(motif)
    data = motif.motif
    try:
        if data.get("profiles"):
            profiles = composed.top.setdefault("profiles", {})
            merge_profiles(profiles, data["profiles"], ("profiles",), composed.origins)
    except PatternError as exc:
        return list(exc.problems)
    notes = (data.get("notes") or {}).get("functions") or []
    if notes:
        mine = composed.top.setdefault("notes", {}).setdefault("functions", [])
        names = {n["name"] for n in mine}
        for note in notes:
            if note["name"] in names:
                return [
                    doc.problem(
                        path,
                        f'note "{note["name"]}" from motif {motif.name} '
                        "clashes with a note of the same name",
                    )
                ]
            mine.append(note)
    return []


def _load_motif(
    imp: MotifImportSpec, doc: Document, path: YamlPath, resolver: MotifResolver
) -> Document:
    return resolver.load(
        imp["motif"],
        doc,
        path + ("motif",),
        version=imp.get("version", ""),
        oci=bool(imp.get("oci")),
    )


def _import_motif(
    doc: Document,
    imp: MotifImportSpec,
    crd_path: YamlPath,
    rel: YamlPath,
    entry: CrdEntry,
    composed: Composed,
    resolver: MotifResolver,
) -> None:
    path = crd_path + rel
    motif = _load_motif(imp, doc, path, resolver)
    if motif not in composed.documents:
        composed.documents.append(motif)
    unused = [key for key in ("profiles", "notes") if motif.data.get(key)]
    if unused:
        composed.warnings.append(
            doc.problem(
                path,
                f"the {' and '.join(unused)} of motif {motif.name} are not taken by a "
                "per-CRD import",
                severity="warning",
                hint="import the motif under spec.imports as well to use them",
            )
        )
    values = bind_inputs(motif, imp.get("with") or {}, doc, path)
    expansion = expand(motif, values)
    merge_expansion(entry, crd_path, expansion, composed.origins, path)


def _describe(origins: Origins, path: YamlPath) -> str:
    doc, original = origins.resolve(path)
    mark = doc.mark(original)
    return f"{doc.path}:{mark.line}"


def _resource_key(kind: str, item: Declaration) -> tuple[str, str] | None:
    if item.get("forEach") is not None:
        return None
    name: Json = item.get("name")
    if kind == "custom":
        name = (item.get("metadata") or {}).get("name", name)
        kind = str(item.get("kind"))
    return (kind, name) if isinstance(name, str) else None


def merge_expansion(
    entry: CrdEntry,
    crd_path: YamlPath,
    exp: Expansion,
    origins: Origins,
    import_path: YamlPath,
) -> None:
    """Append a motif's contribution to a CRD entry (D3: name clashes are errors)."""
    box = entry.setdefault("operatorBox", {})
    reconcile = box.setdefault("reconcile", {})
    box_path = crd_path + ("operatorBox", "reconcile")
    merge = _PhaseMerge(exp, origins, import_path, box_path)
    merge.phase(reconcile, "onCreate", exp.on_create)
    merge.phase(reconcile, "onReconcile", exp.on_reconcile)
    source = exp.motif.source
    if exp.status_fields:
        fields = box.setdefault("emit", {}).setdefault("status", {}).setdefault("fields", [])
        at = crd_path + ("operatorBox", "emit", "status", "fields")
        _append(fields, exp.status_fields, at, origins, source, ("status", "fields"))
    if exp.validation:
        _merge_section(
            entry.setdefault("validation", {}),
            exp.validation,
            crd_path,
            "validation",
            origins,
            source,
        )
    if exp.mutation:
        mine = entry.setdefault("mutation", {})
        _merge_section(mine, exp.mutation, crd_path, "mutation", origins, source)
        if "mutateFirst" in exp.mutation and "mutateFirst" not in mine:
            mine["mutateFirst"] = exp.mutation["mutateFirst"]
    if merge.problems:
        raise PatternError(merge.problems)


class _PhaseMerge:
    """Appends a motif's resources to a CRD's ``onCreate`` or ``onReconcile``."""

    def __init__(
        self, exp: Expansion, origins: Origins, import_path: YamlPath, box_path: YamlPath
    ) -> None:
        self.exp = exp
        self.origins = origins
        self.import_path = import_path
        self.box_path = box_path
        self.problems: list[Problem] = []

    def phase(
        self,
        reconcile: ReconcileBlock,
        phase: Literal["onCreate", "onReconcile"],
        parts: dict[str, list[Placed]],
    ) -> None:
        target = reconcile.setdefault(phase, {})
        for kind, placed in parts.items():
            if not placed:
                continue
            items = target.setdefault(kind, [])
            for item, motif_path in placed:
                self.add(items, kind, item, motif_path, phase)
        if not target:
            del reconcile[phase]

    def add(
        self,
        items: list[Declaration],
        kind: str,
        item: Declaration,
        motif_path: YamlPath,
        phase: str,
    ) -> None:
        exp, origins = self.exp, self.origins
        key = _resource_key(kind, item)
        clash = (
            None
            if key is None
            else next(
                (j for j, other in enumerate(items) if _resource_key(kind, other) == key),
                None,
            )
        )
        if key is not None and clash is not None:
            self.problems.append(
                origins.problem(
                    self.import_path,
                    f'{kind} "{key[1]}" from motif {exp.motif.name} '
                    f"({exp.motif.display}:{exp.motif.source.mark(motif_path).line}) "
                    "clashes with the one at "
                    f"{_describe(origins, self.box_path + (phase, kind, clash))}",
                    hint="rename one of them; a resource name must be unique per kind",
                )
            )
            return
        origins.add(self.box_path + (phase, kind, len(items)), exp.motif.source, motif_path)
        items.append(item)


def _merge_section(
    mine: SectionT,
    block: SectionT,
    crd_path: YamlPath,
    section: str,
    origins: Origins,
    source: SourceDoc,
) -> None:
    """A motif's validation or mutation rules and external calls, after the CRD's own."""
    rules = block.get("rules")
    if rules:
        at = crd_path + (section, "rules")
        _append(
            mine.setdefault("rules", []),
            rules,
            at,
            origins,
            source,
            ("admission", section, "rules"),
        )
    if block.get("external"):
        mine.setdefault("external", []).extend(block["external"])


def _append(
    target: list[ItemT],
    added: list[ItemT],
    at: YamlPath,
    origins: Origins,
    source: SourceDoc,
    written: YamlPath,
) -> None:
    """Append ``added`` to the list at ``at``; item ``i`` was written at ``written + (i,)``
    in ``source``."""
    for i, item in enumerate(added):
        origins.add(at + (len(target),), source, written + (i,))
        target.append(item)


def _add_motif_warnings(composed: Composed) -> None:
    for motif in composed.documents[1:]:
        composed.warnings.extend(motif.warnings)

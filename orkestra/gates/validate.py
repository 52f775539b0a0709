"""The validate gate: load, check and compose pattern files, and summarize them.

:func:`validate_file` never raises for problems in the file; it returns a
:class:`FileReport` listing them, so a run over several files reports all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from orkestra import markdown as md
from orkestra.compose import Composed, MotifResolver
from orkestra.compose.load import compose_document
from orkestra.hooks.spec import code_ref, has_code
from orkestra.kubeobjects import JsonDict
from orkestra.model.checks import BUILTIN_KINDS
from orkestra.model.deprecation import Deprecation, deprecation_of
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem
from orkestra.model.loader import load_documents
from orkestra.model.shapes import CrdEntry
from orkestra.model.source import load_documents as load_yaml

PHASES: tuple[Literal["onCreate", "onReconcile", "onDelete"], ...] = (
    "onCreate",
    "onReconcile",
    "onDelete",
)


@dataclass(kw_only=True)
class CrdSummary:
    name: str
    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool
    mode: str
    workers: int
    resync: str
    protection: str
    builtin: bool
    enabled: bool
    resources: dict[str, dict[str, int]]
    depends_on: dict[str, str]
    hooks: str = ""  # "module:function (order) · manages Kind, Kind"

    def as_dict(self) -> JsonDict:
        return dict(self.__dict__)


@dataclass(kw_only=True)
class FileReport:
    file: str
    kind: str = ""
    name: str = ""
    version: str = ""
    details: str = ""
    crds: list[CrdSummary] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    deprecation: Deprecation | None = None
    composed: Composed | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _protection(composed: Composed, entry: CrdEntry) -> str:
    protection = (composed.top.get("security") or {}).get("deletionProtection")
    enabled = protection.get("enabled") if isinstance(protection, dict) else None
    own = entry.get("deletionProtection")
    override = own.get("enabled") if isinstance(own, dict) else own
    if not enabled:
        return "off"
    if override is False:
        return "off (disabled for this CRD)"
    return "full (CRD + CRs)"


def summarize_crd(composed: Composed, name: str, entry: CrdEntry) -> CrdSummary:
    api = entry.get("apiTypes") or {}
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    counts = {
        phase: {kind: len(items) for kind, items in (reconcile.get(phase) or {}).items() if items}
        for phase in PHASES
    }
    mode = entry.get("mode") or ("typed" if api.get("location") else "dynamic")
    return CrdSummary(
        name=name,
        kind=str(api.get("kind", "")),
        group=str(api.get("group", "")),
        version=str(api.get("version", "")),
        plural=str(api.get("plural", "")),
        namespaced=entry.get("namespaced", True) is not False,
        mode=mode,
        workers=int(reconcile.get("workers", 3)),
        resync=str(reconcile.get("resync", "30s")),
        protection=_protection(composed, entry),
        builtin=api.get("kind") in BUILTIN_KINDS,
        enabled=entry.get("enabled", True) is not False,
        resources={p: c for p, c in counts.items() if c},
        depends_on={k: v["condition"] for k, v in (entry.get("dependsOn") or {}).items()},
        hooks=_hooks_line(entry),
    )


def _hooks_line(entry: CrdEntry) -> str:
    ref = code_ref(entry)
    if ref is None:
        return ""
    order = (
        "instead of the templates"
        if ref.replaces_templates
        else "before the templates"
        if ref.run_first
        else "after the templates"
    )
    managed = ", ".join(kind for _, kind in ref.resources)
    return f"{ref.name} ({ref.block}, {order})" + (f" · manages {managed}" if managed else "")


def validate_file(
    path: Path, display: str, motifs: MotifResolver | None = None, *, trust_hooks: bool = False
) -> list[FileReport]:
    """Check one file (all its documents); problems are returned, not raised.
    ``trust_hooks``: import and check pulled patterns' Python code too (otherwise a
    warning says it was not)."""
    try:
        documents = load_documents(path, display=display)
    except PatternError as exc:
        return [
            FileReport(
                file=display,
                errors=[p for p in exc.problems if p.severity == "error"],
                warnings=[p for p in exc.problems if p.severity != "error"],
            )
        ]
    resolver = motifs or MotifResolver()
    return [_report(doc, display, resolver, trust_hooks=trust_hooks) for doc in documents]


def _report(
    doc: Document, display: str, resolver: MotifResolver, *, trust_hooks: bool
) -> FileReport:
    report = FileReport(
        file=display,
        kind=doc.kind,
        name=doc.name,
        version=doc.version,
        warnings=list(doc.warnings),
        deprecation=deprecation_of(doc.data),
    )
    try:
        if doc.kind in ("Katalog", "Komposer"):
            report.composed = compose_document(doc, resolver)
            report.warnings = list(report.composed.warnings)
            if any(has_code(e) for e in report.composed.crds.values()):
                from orkestra.compose.engines import Engines  # the engine: only for code

                code = Engines(report.composed, trust_hooks=trust_hooks).hook_problems(
                    untrusted="warning"
                )
                report.errors.extend(p for p in code if p.severity == "error")
                report.warnings.extend(p for p in code if p.severity != "error")
            report.crds = [
                summarize_crd(report.composed, n, e) for n, e in report.composed.crds.items()
            ]
        elif doc.kind == "Motif":
            report.details = _motif_details(doc)
        elif doc.kind == "Simulate":
            report.details = _check_simulate(doc, resolver)
        elif doc.kind == "E2E":
            report.details = _check_e2e(doc)
    except PatternError as exc:
        report.errors.extend(p for p in exc.problems if p.severity == "error")
        report.warnings.extend(p for p in exc.problems if p.severity != "error")
    return report


def _motif_details(doc: Document) -> str:
    motif = doc.motif
    inputs = motif.get("inputs") or []
    resources = motif.get("resources") or {}
    on_create = resources.get("onCreate")
    count = sum(len(v) for k, v in resources.items() if k != "onCreate") + (
        sum(len(v) for v in on_create.values()) if isinstance(on_create, dict) else 0
    )
    admission = motif.get("admission") or {}
    rules = len((admission.get("validation") or {}).get("rules") or []) + len(
        (admission.get("mutation") or {}).get("rules") or []
    )
    parts = [
        f"{len(inputs)} input{'s' if len(inputs) != 1 else ''}",
        f"{count} resource{'s' if count != 1 else ''}",
    ]
    if rules:
        parts.append(f"{rules} admission rule{'s' if rules != 1 else ''}")
    return ", ".join(parts)


def _require_file(doc: Document, key_path: tuple[str | int, ...], ref: str) -> Path:
    target = doc.resolve_path(ref)
    if not target.is_file():
        raise PatternError(
            [
                doc.problem(
                    key_path, f'"{ref}" does not exist', hint=f"paths are relative to {doc.display}"
                )
            ]
        )
    return target


def _check_simulate(doc: Document, resolver: MotifResolver) -> str:
    simulation = doc.simulation
    imports = simulation.get("imports")
    if imports:
        for i, ref in enumerate(imports):
            _require_file(doc, ("imports", i), ref)
        return f"aggregates {len(imports)} simulate file(s)"
    spec = simulation["spec"]
    katalog = _require_file(doc, ("spec", "katalog"), spec["katalog"])
    crs: list[tuple[str | int, str]] = [("cr", spec["cr"])] if "cr" in spec else []
    crs += enumerate(spec.get("crFiles") or [])
    for key, ref in crs:
        where = ("spec", "cr") if key == "cr" else ("spec", "crFiles", key)
        load_yaml(_require_file(doc, where, ref), display=ref)
    target = load_documents(katalog, kinds=("Katalog", "Komposer"), display=spec["katalog"])[0]
    compose_document(target, resolver)
    expect = spec.get("expect")
    if expect is None:
        return f"op-print mode (no expect:), katalog {spec['katalog']}"
    ops, absent = len(expect.get("ops") or []), len(expect.get("absent") or [])
    return (
        f"{ops} op rule{'s' if ops != 1 else ''}, {absent} absent rule"
        f"{'s' if absent != 1 else ''}, katalog {spec['katalog']}"
    )


def _check_e2e(doc: Document) -> str:
    """Every file the suite and its imports name must exist (what ``ork e2e`` reads)."""
    from orkestra.e2e.spec import load_suite

    suite = load_suite(doc.file, doc.display)
    count = len(suite.expect)
    imports = (
        f", {len(suite.imports)} import{'s' if len(suite.imports) != 1 else ''}"
        if suite.imports
        else ""
    )
    return (
        f"{count} expectation{'s' if count != 1 else ''}{imports}, cluster: "
        f"{suite.cluster.provider}"
    )


def markdown(reports: list[FileReport]) -> str:
    """The reports as Markdown for a CI job summary: a row per document, then every
    problem with its place."""
    passed = all(r.ok for r in reports)
    rows = [
        [
            md.mark(r.ok),
            r.file,
            r.kind,
            r.name,
            r.version,
            _counts(r) if r.errors or r.warnings else "valid",
        ]
        for r in reports
    ]
    lines = [
        f"## ork validate: {'PASS' if passed else 'FAIL'}",
        "",
        *md.table(["", "File", "Kind", "Name", "Version", "Result"], rows),
        "",
    ]
    problems = [p for r in reports for p in [*r.errors, *r.warnings]]
    if problems:
        lines += [
            *md.table(
                ["", "Where", "Problem"],
                [
                    [
                        "✗" if p.severity == "error" else "⚠",
                        f"{p.file}:{p.line}" if p.line else p.file,
                        "\n".join(
                            [
                                p.message,
                                *([f"expected: {p.expected}"] if p.expected else []),
                                *([f"hint: {p.hint}"] if p.hint else []),
                            ]
                        ),
                    ]
                    for p in problems
                ],
            ),
            "",
        ]
    return "\n".join(lines)


def _counts(report: FileReport) -> str:
    parts = [md.plural(len(report.errors), "error")] if report.errors else []
    if report.warnings:
        parts.append(md.plural(len(report.warnings), "warning"))
    return ", ".join(parts)

"""Read pattern files: detect the kind, check the schema strictly, normalize to G2.

:func:`load_documents` returns every document of a file as a :class:`Document`; problems
from all documents are gathered and raised together as one :class:`PatternError`. Semantic
checks that need more than one document (motif bindings, komposer overrides) live in
:mod:`orkestra.compose`. A document may hold at most ``ORK_MAX_TEMPLATE_ACTIONS`` template
actions (each ``{{`` is parsed and compiled to Python, the costliest step of a load).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from orkestra import limits
from orkestra.kubeobjects import Json, JsonDict
from orkestra.model.checks import check_document
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, did_you_mean
from orkestra.model.formats import API_VERSION, G1_BOX_KEYS, KINDS, LEGACY_API_VERSION
from orkestra.model.normalize import Normalizer
from orkestra.model.origins import Origins
from orkestra.model.schema import Context
from orkestra.model.shapes import PatternData
from orkestra.model.source import SourceDoc, parse_documents, read_text

PATTERN_KINDS = tuple(KINDS)


def _top(doc: SourceDoc) -> JsonDict:
    """The document's top-level mapping; a PatternError when it is something else."""
    data = doc.data
    if not isinstance(data, dict):
        raise PatternError(
            [
                doc.problem(
                    (),
                    "expected a mapping at the top of the document",
                    expected=f"a pattern ({', '.join(PATTERN_KINDS)})",
                )
            ]
        )
    return data


def detect_kind(doc: SourceDoc) -> str:
    """The document's ``kind``; a PatternError when it is missing or not a pattern kind."""
    kind = _top(doc).get("kind")
    if kind is None:
        raise PatternError(
            [
                doc.problem(
                    (),
                    'missing "kind"',
                    expected=f"one of {', '.join(PATTERN_KINDS)}",
                    hint="add kind: Katalog (or Motif, Komposer, Simulate, E2E)",
                )
            ]
        )
    if not isinstance(kind, str) or kind not in KINDS:
        raise PatternError(
            [
                doc.problem(
                    ("kind",),
                    f'"{kind}" is not an Orkestra pattern kind',
                    expected=f"one of {', '.join(PATTERN_KINDS)}",
                    hint=did_you_mean(str(kind), PATTERN_KINDS),
                )
            ]
        )
    return str(kind)


def _generation(data: JsonDict) -> str:
    if data.get("apiVersion") == LEGACY_API_VERSION or "sources" in data:
        return "G0"
    spec = data.get("spec")
    crds = spec.get("crds") if isinstance(spec, dict) else None
    if isinstance(crds, list):
        return "G0"
    if isinstance(crds, dict):
        for entry in crds.values():
            box = entry.get("operatorBox") if isinstance(entry, dict) else None
            if isinstance(box, dict) and any(k in box for k in G1_BOX_KEYS):
                return "G1"
            if isinstance(entry, dict) and any(
                k in entry for k in ("workers", "resync", "reconciler")
            ):
                return "G1"
    return "G2"


def _template_actions(data: Json) -> int:
    """How many ``{{`` the strings (keys included) of ``data`` hold."""
    count, stack = 0, [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            count += item.count("{{")
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def check_template_actions(source: SourceDoc) -> None:
    """Refuse a document with more template actions than ``ORK_MAX_TEMPLATE_ACTIONS``."""
    limit = limits.TEMPLATE_ACTIONS
    count = _template_actions(source.data)
    if count > limit.value:
        raise PatternError(
            [
                source.problem(
                    (),
                    f"the document holds {count} template actions "
                    f"({{{{ ... }}}}), more than {limit.value}",
                    hint=limit.hint,
                )
            ]
        )


def build_document(
    source: SourceDoc, file: Path, kinds: tuple[str, ...] = PATTERN_KINDS, *, checks: bool = True
) -> Document:
    """Check one parsed document and normalize it; raises PatternError.

    ``checks=False`` skips the semantic checks (references, conditions, templates); the
    schema is always enforced because nothing can be built from a malformed document.
    """
    kind = detect_kind(source)
    check_template_actions(source)
    if kind not in kinds:
        raise PatternError(
            [
                source.problem(
                    ("kind",),
                    f"a {kind} is not expected here",
                    expected=f"one of {', '.join(kinds)}",
                )
            ]
        )
    ctx = Context(source)
    written = _top(source)
    data = KINDS[kind].check_mapping(written, (), ctx)  # new mappings and lists: see Node
    errors = [p for p in ctx.problems if p.severity == "error"]
    if errors:
        raise PatternError(ctx.problems)
    origins = Origins(source)
    generation = _generation(written)
    normalizer = Normalizer(origins)
    if kind == "Katalog":
        data = normalizer.katalog(data)
    elif kind == "Komposer":
        data = normalizer.komposer(data)
    model = cast(PatternData, data)  # checked against the kind's schema, normalized to G2
    document = Document(
        kind=kind,
        data=model,
        source=source,
        file=file,
        origins=origins,
        generation=generation,
        warnings=list(ctx.problems),
    )
    problems = normalizer.problems + (check_document(document) if checks else [])
    if generation == "G0":
        document.warnings.append(
            source.problem(
                ("apiVersion",),
                f"the G0 layout ({LEGACY_API_VERSION}, list-form spec.crds, "
                "sources:) is deprecated",
                severity="warning",
                hint=f"use apiVersion: {API_VERSION}; `ork template` prints the current layout",
            )
        )
    errors = [p for p in problems if p.severity == "error"]
    document.warnings.extend(p for p in problems if p.severity != "error")
    if errors:
        raise PatternError(errors + document.warnings)
    return document


def load_documents(
    file: Path,
    *,
    kinds: tuple[str, ...] = PATTERN_KINDS,
    display: str | None = None,
    checks: bool = True,
) -> list[Document]:
    """Every pattern document in ``file``."""
    shown = display or str(file)
    sources = parse_documents(read_text(file, shown), shown)
    if not sources:
        raise PatternError(
            [
                Problem(
                    file=shown,
                    line=0,
                    column=0,
                    path=(),
                    message="the file has no YAML documents",
                    expected=f"a pattern ({', '.join(kinds)})",
                )
            ]
        )
    documents: list[Document] = []
    problems: list[Problem] = []
    for source in sources:
        try:
            documents.append(build_document(source, file, kinds, checks=checks))
        except PatternError as exc:
            problems.extend(exc.problems)
    if any(p.severity == "error" for p in problems):
        raise PatternError(problems)
    return documents


def load_document(
    file: Path,
    *,
    kinds: tuple[str, ...] = PATTERN_KINDS,
    display: str | None = None,
    checks: bool = True,
) -> Document:
    """The single pattern document in ``file``."""
    documents = load_documents(file, kinds=kinds, display=display, checks=checks)
    if len(documents) > 1:
        raise PatternError(
            [
                documents[1].source.problem(
                    (),
                    f"expected one document, found {len(documents)}",
                    hint="put each pattern in its own file",
                )
            ]
        )
    return documents[0]

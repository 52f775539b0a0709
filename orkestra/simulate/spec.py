"""What to simulate: a ``simulate.yaml`` (or a katalog and a CR file) made concrete.

The data files a simulate file names (CR and CRD files, ``include:`` files of expected ops)
must be regular files inside its own directory or the katalog's (``..`` and symbolic links
resolved; ``ORK_ALLOWED_ROOTS`` adds directories); the katalog and imported simulate files
are patterns of their own and may live elsewhere (``../02-katalog-api/katalog.yaml``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, cast

from orkestra.kubeobjects import JsonObject
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.formats import OP_RULE
from orkestra.model.loader import load_document
from orkestra.model.schema import Context, F, ListOf, Obj
from orkestra.model.shapes import CrdExpectations, Expectations, OpRule
from orkestra.model.source import load_documents, reference_problem

DEFAULT_CYCLES = 10
_INCLUDE = Obj(fields={"ops": F(ListOf(OP_RULE), True)}, name="ops include")


class _Included(TypedDict):
    """An ``include:`` file of expected ops, as :data:`_INCLUDE` checks it."""

    ops: list[OpRule]


@dataclass(kw_only=True)
class SimulationSpec:
    """One simulation: the katalog, the CR files, how many cycles, what to expect, and
    ``cross``: what the katalog's cross sources answer (by ``as``).

    ``source`` and ``positions`` place an expectation in the file it was written in (for
    CI annotations): ``positions`` maps ``id()`` of each rule and ``expect`` block to its
    YAML path (an included rule to its ``include:`` line)."""

    name: str
    katalog: Path
    crs: list[Path]
    crds: list[Path] = field(default_factory=list)
    cycles: int = DEFAULT_CYCLES
    expect: Expectations | None = None
    file: Path | None = None
    display: str = ""
    source: Document | None = None
    positions: dict[int, YamlPath] = field(default_factory=dict)
    cross: dict[str, JsonObject] = field(default_factory=dict)

    def problem(self, target: object, key: str, message: str) -> Problem | None:
        """A problem at a rule or at ``key`` of an expect block (None without a source)."""
        if self.source is None:
            return None
        path = self.positions.get(id(target))
        if path is None:
            return None
        return self.source.problem(path if not key else path + (key,), message)


def _data_file(doc: Document, where: YamlPath, ref: str, roots: Sequence[Path]) -> Path:
    """A data file the simulate file names, refused when it may not be read."""
    path = doc.resolve_path(ref)
    refused = reference_problem(path, roots)
    if refused is not None:
        raise PatternError(
            [doc.problem(where, f'cannot read "{ref}": {refused[0]}', hint=refused[1])]
        )
    return path


def _expand_includes(
    doc: Document,
    expect: Expectations,
    path: YamlPath,
    positions: dict[int, YamlPath],
    roots: Sequence[Path],
) -> None:
    _expand_block(doc, expect, path, positions, roots)
    for crd, block in (expect.get("crds") or {}).items():
        _expand_block(doc, block, path + ("crds", crd), positions, roots)


def _expand_block(
    doc: Document,
    expect: CrdExpectations,
    path: YamlPath,
    positions: dict[int, YamlPath],
    roots: Sequence[Path],
) -> None:
    positions[id(expect)] = path
    for i, rule in enumerate(expect.get("absent") or []):
        positions[id(rule)] = path + ("absent", i)
    ops: list[OpRule] = []
    for i, rule in enumerate(expect.get("ops") or []):
        if "include" not in rule:
            positions[id(rule)] = path + ("ops", i)
            ops.append(rule)
            continue
        ref = _data_file(doc, path + ("ops", i, "include"), rule["include"], roots)
        try:
            sources = load_documents(ref, display=rule["include"])
        except PatternError as exc:
            raise PatternError(
                [
                    doc.problem(
                        path + ("ops", i, "include"), f'cannot include "{rule["include"]}"'
                    ),
                    *exc.problems,
                ]
            ) from None
        ctx = Context(sources[0])
        checked = _INCLUDE.check(sources[0].data, (), ctx)
        if [p for p in ctx.problems if p.severity == "error"]:
            raise PatternError(ctx.problems)
        data = cast(_Included, checked)
        positions.update({id(r): path + ("ops", i, "include") for r in data["ops"]})
        ops.extend(data["ops"])
    if "ops" in expect:
        expect["ops"] = ops


def load_specs(
    file: Path,
    display: str | None = None,
    *,
    cycles: int | None = None,
    seen: frozenset[Path] = frozenset(),
) -> list[SimulationSpec]:
    """The simulations a simulate file describes (an aggregator gives several)."""
    shown = display or str(file)
    doc = load_document(file, kinds=("Simulate",), display=shown)
    resolved = file.resolve()
    if resolved in seen:
        raise PatternError(
            [
                Problem(
                    file=shown, line=0, column=0, path=(), message="simulate imports form a cycle"
                )
            ]
        )
    data = doc.simulation
    if data.get("imports"):
        specs = []
        for i, ref in enumerate(data["imports"]):
            target = doc.resolve_path(ref)
            if not target.is_file():
                raise PatternError([doc.problem(("imports", i), f'"{ref}" does not exist')])
            specs.extend(
                load_specs(
                    target, str(Path(shown).parent / ref), cycles=cycles, seen=seen | {resolved}
                )
            )
        return specs
    spec = data["spec"]
    katalog = doc.resolve_path(spec["katalog"])
    roots = (doc.directory, katalog.parent)
    crs = [
        _data_file(doc, where, ref, roots)
        for where, ref in _refs("cr", spec.get("cr"), "crFiles", spec.get("crFiles"))
    ]
    crds = [
        _data_file(doc, where, ref, roots)
        for where, ref in _refs("crd", spec.get("crd"), "crdFiles", spec.get("crdFiles"))
    ]
    expect = spec.get("expect")
    positions: dict[int, YamlPath] = {}
    if expect is not None:
        _expand_includes(doc, expect, ("spec", "expect"), positions, roots)
    name = str((data.get("metadata") or {}).get("name") or file.stem)
    return [
        SimulationSpec(
            name=name,
            katalog=katalog,
            crs=crs,
            crds=crds,
            cycles=cycles or int(spec.get("cycles", DEFAULT_CYCLES)),
            expect=expect,
            file=file,
            display=shown,
            source=doc,
            positions=positions,
            cross=dict(spec.get("cross") or {}),
        )
    ]


def _refs(
    one: str, single: str | None, many: str, listed: list[str] | None
) -> list[tuple[YamlPath, str]]:
    """(YAML path, reference) of ``spec.<one>`` (``single``) and each ``spec.<many>`` entry
    (``listed``)."""
    refs: list[tuple[YamlPath, str]] = [(("spec", one), single)] if single is not None else []
    return refs + [(("spec", many, i), ref) for i, ref in enumerate(listed or [])]

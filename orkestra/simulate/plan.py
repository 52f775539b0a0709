"""What to simulate: a ``simulate.yaml`` (or a katalog and a CR file) made concrete."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.formats import OP_RULE
from orkestra.model.loader import load_document
from orkestra.model.schema import Context, F, ListOf, Obj
from orkestra.model.source import load_documents

DEFAULT_CYCLES = 10
_INCLUDE = Obj({"ops": F(ListOf(OP_RULE), True)}, name="ops include")


@dataclass
class Plan:
    """One simulation: the katalog, the CR files, how many cycles, what to expect.

    ``source`` and ``positions`` place an expectation in the file it was written in (for
    CI annotations): ``positions`` maps ``id()`` of each rule and ``expect`` block to its
    YAML path (an included rule to its ``include:`` line)."""

    name: str
    katalog: Path
    crs: list[Path]
    crds: list[Path] = field(default_factory=list)
    cycles: int = DEFAULT_CYCLES
    expect: dict[str, Any] | None = None
    file: Path | None = None
    display: str = ""
    source: Document | None = None
    positions: dict[int, YamlPath] = field(default_factory=dict)

    def problem(self, target: object, key: str, message: str) -> Problem | None:
        """A problem at a rule or at ``key`` of an expect block (None without a source)."""
        if self.source is None:
            return None
        path = self.positions.get(id(target))
        if path is None:
            return None
        return self.source.problem(path if not key else path + (key,), message)


def _expand_includes(doc: Document, expect: dict[str, Any], path: YamlPath,
                     positions: dict[int, YamlPath]) -> None:
    positions[id(expect)] = path
    for i, rule in enumerate(expect.get("absent") or []):
        positions[id(rule)] = path + ("absent", i)
    ops: list[Any] = []
    for i, rule in enumerate(expect.get("ops") or []):
        if "include" not in rule:
            positions[id(rule)] = path + ("ops", i)
            ops.append(rule)
            continue
        ref = doc.resolve_path(rule["include"])
        try:
            sources = load_documents(ref, display=rule["include"])
        except PatternError as exc:
            raise PatternError([doc.problem(path + ("ops", i, "include"),
                                            f'cannot include "{rule["include"]}"'),
                                *exc.problems]) from None
        ctx = Context(sources[0])
        data = _INCLUDE.check(sources[0].data, (), ctx)
        if [p for p in ctx.problems if p.severity == "error"]:
            raise PatternError(ctx.problems)
        positions.update({id(r): path + ("ops", i, "include") for r in data["ops"]})
        ops.extend(data["ops"])
    if "ops" in expect:
        expect["ops"] = ops
    for crd, block in (expect.get("crds") or {}).items():
        _expand_includes(doc, block, path + ("crds", crd), positions)


def load_plans(file: Path, display: str | None = None, *, cycles: int | None = None,
               seen: frozenset[Path] = frozenset()) -> list[Plan]:
    """The simulations a simulate file describes (an aggregator gives several)."""
    shown = display or str(file)
    doc = load_document(file, kinds=("Simulate",), display=shown)
    resolved = file.resolve()
    if resolved in seen:
        raise PatternError([Problem(shown, 0, 0, (), "simulate imports form a cycle")])
    if doc.data.get("imports"):
        plans = []
        for i, ref in enumerate(doc.data["imports"]):
            target = doc.resolve_path(ref)
            if not target.is_file():
                raise PatternError([doc.problem(("imports", i), f'"{ref}" does not exist')])
            plans.extend(load_plans(target, str(Path(shown).parent / ref), cycles=cycles,
                                    seen=seen | {resolved}))
        return plans
    spec = doc.data["spec"]
    crs = ([spec["cr"]] if "cr" in spec else []) + list(spec.get("crFiles") or [])
    crds = ([spec["crd"]] if "crd" in spec else []) + list(spec.get("crdFiles") or [])
    expect = spec.get("expect")
    positions: dict[int, YamlPath] = {}
    if expect is not None:
        _expand_includes(doc, expect, ("spec", "expect"), positions)
    name = str((doc.data.get("metadata") or {}).get("name") or file.stem)
    return [Plan(name, doc.resolve_path(spec["katalog"]), [doc.resolve_path(c) for c in crs],
                 [doc.resolve_path(c) for c in crds], cycles or int(spec.get("cycles",
                                                                              DEFAULT_CYCLES)),
                 expect, file, shown, doc, positions)]

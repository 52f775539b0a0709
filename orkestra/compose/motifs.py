"""Motif expansion: bind inputs, substitute them, split conditions, merge into the CRD.

The algorithm is the original tool's (reference formats §13.3), applied to the parsed data
rather than to re-serialized YAML text, which gives the same result without the quoting
hazards of splicing values into YAML:

1. every declared input gets a value: its ``with:`` binding, else its default, else "";
2. ``{{ .inputs.X }}`` / ``{{ inputs.X }}`` are replaced by the bound text (which may itself
   be a runtime template such as ``{{ .spec.image }}``); a whole value that was exactly that
   reference to an integer/number/bool input becomes a typed value when the binding is a
   literal of that type;
3. any other ``{{ ... }}`` block that mentions ``inputs`` is rendered against the inputs
   (``{{ .inputs.a | default .inputs.b }}``), or left as it was if it cannot render alone;
4. a resource's conditions without any template left are decided now (static: the field
   text is compared literally), the rest stay for reconcile time, and so do conditions
   whose field the motif wrote as a bare path into the CR (``status.phase``);
5. resources are appended to the CRD's ``onCreate`` (from ``resources.onCreate``) or
   ``onReconcile`` (everything else), status fields and admission rules are appended too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, cast

from orkestra.model.checks import bare_path
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath, did_you_mean
from orkestra.model.imports import MotifImport
from orkestra.model.loader import load_document
from orkestra.model.shapes import (
    ConditionSpec,
    Declaration,
    Mutation,
    Scalar,
    StatusField,
    Validation,
)
from orkestra.template import Renderer, TemplateError

if TYPE_CHECKING:
    from orkestra.registry.sources import Located, RegistrySource

_INPUT_REF = re.compile(r"\{\{\s\.?inputs\.([A-Za-z_][A-Za-z0-9_-]*)\s\}\}")
_BLOCK = re.compile(r"\{\{.*?\}\}", re.S)
_STATIC_OPS = ("equals", "notEquals", "contains", "prefix", "suffix", "exists", "notExists")
_TYPED: dict[str, Callable[[str], Scalar]] = {
    "int": int,
    "integer": int,
    "number": float,
    "bool": bool,
    "boolean": bool,
}
_INPUTS_RENDERER = Renderer()
ShapeT = TypeVar("ShapeT")


class MotifResolver:
    """Finds and loads what imports name: local motif files, and registry patterns (motifs
    and katalogs) through the local cache, each once."""

    def __init__(self, *, checks: bool = True, registry: RegistrySource | None = None) -> None:
        self._cache: dict[Path, Document] = {}
        self._registry = registry
        self.checks = checks

    @property
    def registry(self) -> RegistrySource:
        if self._registry is None:
            from orkestra.registry.sources import RegistrySource

            self._registry = RegistrySource()
        return self._registry

    def use_lock(self, path: Path) -> None:
        """Read registry imports by the digests of this lock file, when it exists (and no
        lock was given already)."""
        if path.is_file() and self.registry.lock is None:
            from orkestra.registry.lock import LockFile

            self.registry.lock = LockFile.load(path)

    @property
    def located(self) -> list[Located]:
        """The registry imports resolved so far."""
        return [] if self._registry is None else list(self._registry.located.values())

    def load(
        self, ref: str, importer: Document, path: YamlPath, *, version: str = "", oci: bool = False
    ) -> Document:
        imp = MotifImport(path, ref, version, oci)
        if imp.is_registry:
            located = self.locate(ref, "Motif", importer, path, version)
            return self._load(located.file("motif.yaml"), f"{located.ref}/motif.yaml")
        if imp.is_git:
            raise PatternError(
                [
                    importer.problem(
                        path,
                        f'cannot resolve motif "{ref}": Git motif imports are not supported',
                        hint="publish the motif with `ork push` and import its oci:// reference, "
                        "or import it by a local path",
                    )
                ]
            )
        local = importer.resolve_path(ref)
        if not local.resolve().is_file():
            raise PatternError(
                [
                    importer.problem(
                        path,
                        f'motif file "{ref}" not found',
                        expected="a motif.yaml",
                        hint=f"paths are relative to {importer.display}",
                    )
                ]
            )
        return self._load(local, _display(local))

    def _load(self, file: Path, display: str) -> Document:
        resolved = file.resolve()
        if resolved not in self._cache:
            self._cache[resolved] = load_document(
                resolved, kinds=("Motif",), display=display, checks=self.checks
            )
        return self._cache[resolved]

    def locate(
        self, ref: str, kind: str, importer: Document, path: YamlPath, version: str = ""
    ) -> Located:
        """A registry reference resolved to its cached pattern directory."""
        from orkestra.registry.errors import RegistryError

        try:
            return self.registry.locate(ref, kind, version)
        except RegistryError as exc:
            raise PatternError(
                [
                    importer.problem(
                        path, f'cannot resolve {kind.lower()} "{ref}": {exc.message}', hint=exc.hint
                    )
                ]
            ) from None


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


Placed = tuple[Declaration, YamlPath]  # a resource and where the motif declares it


@dataclass(kw_only=True)
class Expansion:
    """What one motif import contributes to a CRD."""

    motif: Document
    on_create: dict[str, list[Placed]]
    on_reconcile: dict[str, list[Placed]]
    status_fields: list[StatusField]
    validation: Validation
    mutation: Mutation


def bind_inputs(
    motif: Document, bindings: dict[str, Scalar], importer: Document, path: YamlPath
) -> dict[str, str]:
    """The value of every declared input; missing required and unknown keys are errors."""
    declared = {spec["name"]: spec for spec in motif.motif.get("inputs") or []}
    problems: list[Problem] = []
    for key in bindings:
        if key not in declared:
            problems.append(
                importer.problem(
                    path + ("with", key),
                    f'motif {motif.name} has no input "{key}"',
                    key=True,
                    expected=f"one of {', '.join(declared) or '(no inputs)'}",
                    hint=did_you_mean(key, declared),
                )
            )
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in bindings:
            values[name] = _text(bindings[name])
        elif spec.get("required"):
            problems.append(
                importer.problem(
                    path,
                    f'motif {motif.name} needs input "{name}"',
                    expected=spec.get("description") or f"a value for {name}",
                    hint=f"add {name}: under with:",
                )
            )
        else:
            values[name] = _text(spec.get("default", ""))
    if problems:
        raise PatternError(problems)
    return values


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _typed_literal(text: str, kind: str) -> Scalar | None:
    if kind in ("bool", "boolean"):
        return {"true": True, "false": False}.get(text)
    try:
        return _TYPED[kind](text)
    except (KeyError, ValueError):
        return None


class _Substitution:
    def __init__(self, values: dict[str, str], types: dict[str, str]) -> None:
        self.values = values
        self.types = types

    def same_shape(self, node: ShapeT) -> ShapeT:
        """:meth:`value` of a checked block: substitution keeps its shape."""
        return cast(ShapeT, self.value(node))

    def value(self, node: object) -> object:
        if isinstance(node, dict):
            return {self.text(k): self.value(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if isinstance(node, str):
            return self.scalar(node)
        return node

    def scalar(self, text: str) -> Scalar:
        whole = _INPUT_REF.fullmatch(text.strip())
        if whole and whole.group(1) in self.types:
            typed = _typed_literal(self.values.get(whole.group(1), ""), self.types[whole.group(1)])
            if typed is not None:
                return typed
        return self.text(text)

    def text(self, text: str) -> str:
        if "inputs" not in text:
            return text
        text = _INPUT_REF.sub(lambda m: self.values.get(m.group(1), m.group(0)), text)
        if "inputs" in text:
            text = _BLOCK.sub(self.render_block, text)
        return text

    def render_block(self, match: re.Match[str]) -> str:
        block = match.group(0)
        if "inputs" not in block:
            return block
        try:
            return (
                _INPUTS_RENDERER.compile(block)
                .execute({"inputs": self.values})
                .replace("<no value>", "")
            )
        except TemplateError:
            return block


def _static_result(cond: ConditionSpec) -> bool | None:
    """Decide a condition at load time; None when it must wait for reconcile."""
    if any(k in cond for k in ("time", "dayOfWeek", "cron")):
        return None
    if any(isinstance(v, str) and "{{" in v for v in cond.values()):
        return None
    op = cond.get("operator") or next((k for k in _STATIC_OPS if k in cond), None)
    if op is None or op not in _STATIC_OPS:
        return True  # operators the expander cannot decide pass, as in the original
    field = _text(cond.get("field"))
    value = _text(cond.get("value") if "operator" in cond else cond.get(op))
    result = {
        "equals": field == value,
        "notEquals": field != value,
        "contains": value in field,
        "prefix": field.startswith(value),
        "suffix": field.endswith(value),
        "exists": field != "",
        "notExists": field == "",
    }[op]
    return not result if cond.get("negate") else result


def split_conditions(item: Declaration, written: Declaration) -> bool:
    """Decide static conditions; False when the resource is dropped at load time.

    ``written`` is the resource as the motif declares it: a condition whose field was a
    bare path into the CR there (``status.phase``) stays for reconcile time, where it is
    resolved against the CR; upstream compares such a field as literal text.
    """

    def decided(key: Literal["when", "or"]) -> list[bool | None]:
        return [
            None if bare_path((raw or {}).get("field"), written) == "cr" else _static_result(cond)
            for cond, raw in zip(item.get(key) or [], written.get(key) or [], strict=True)
        ]

    keep = True
    when = item.get("when") or []
    when_decided = decided("when")
    if any(d is False for d in when_decided):
        keep = False
    item["when"] = [c for c, d in zip(when, when_decided, strict=True) if d is None]
    any_of = item.get("or") or []
    or_decided = decided("or")
    if any_of and all(d is False for d in or_decided):
        keep = False
    if any(d is True for d in or_decided):
        item["or"] = []
    else:
        item["or"] = [c for c, d in zip(any_of, or_decided, strict=True) if d is None]
    if not item["when"]:
        del item["when"]
    if not item["or"]:
        del item["or"]
    return keep


def expand(motif: Document, values: dict[str, str]) -> Expansion:
    """Substitute ``values`` into a motif and sort its parts for merging."""
    data = motif.motif
    types = {
        spec["name"]: spec["type"]
        for spec in data.get("inputs") or []
        if spec.get("type") in _TYPED
    }
    sub = _Substitution(values, types)
    written = data.get("resources") or {}
    resources = sub.same_shape(copy.deepcopy(written))
    on_create: dict[str, list[Placed]] = {}
    on_reconcile: dict[str, list[Placed]] = {}
    for kind, items in resources.items():
        raw = written[kind]
        if isinstance(items, dict) and isinstance(raw, dict):  # onCreate: resource templates
            for sub_kind, sub_items in items.items():
                on_create[sub_kind] = _kept(
                    sub_items, raw[sub_kind], ("resources", "onCreate", sub_kind)
                )
        elif isinstance(items, list) and isinstance(raw, list):
            on_reconcile[kind] = _kept(items, raw, ("resources", kind))
    status = sub.same_shape(copy.deepcopy(data.get("status") or {}))
    admission = sub.same_shape(copy.deepcopy(data.get("admission") or {}))
    return Expansion(
        motif=motif,
        on_create=on_create,
        on_reconcile=on_reconcile,
        status_fields=list(status.get("fields") or []),
        validation=admission.get("validation") or {},
        mutation=admission.get("mutation") or {},
    )


def _kept(items: list[Declaration], written: list[Declaration], path: YamlPath) -> list[Placed]:
    return [
        (item, path + (i,))
        for i, (item, raw) in enumerate(zip(items, written, strict=True))
        if split_conditions(item, raw)
    ]

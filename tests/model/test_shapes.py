"""The TypedDicts of :mod:`orkestra.model.shapes` describe, at every depth, what the schema
of :mod:`orkestra.model.formats` accepts once :mod:`orkestra.model.normalize` has run.

The walk pairs a shape's annotation with a schema node, from each document root down:

- the YAML types must agree both ways: every form a node (or one of an ``Either``'s options)
  lets through has an alternative in the annotation, and every list or mapping alternative
  of the annotation has a node form; a scalar alternative only needs some scalar form, as a
  wider scalar type (``Scalar`` for an ``Int``) costs readers nothing;
- a TypedDict pairs with an ``Obj`` (same keys, each key recursed), ``list[X]`` with a
  ``ListOf`` (items recursed), ``dict[str, X]`` with a ``MapOf`` (values recursed) or with
  an ``Obj`` whose every field is an ``X`` (a map type for a fixed-key block);
- ``Json`` matches anything and ``JsonObject``/``JsonDict`` any mapping: they are the
  shapes' word for "free-form" (a custom resource's ``spec``, opaque blocks), so what the
  schema declares beneath them is not compared.

Not compared: enum values and patterns (a ``Literal`` counts as its type; templates make
most strings free anyway), and required keys (the schema's finish steps fill some optional
keys, such as a cross entry's ``as``, and readers ``.get`` the others).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ForwardRef, Literal, NotRequired, Required, TypedDict, Union

import pytest

from orkestra.kubeobjects import Json, JsonObject
from orkestra.model import formats, shapes
from orkestra.model.schema import (
    AnyValue,
    Bool,
    Duration,
    Either,
    F,
    Int,
    ListOf,
    MapOf,
    Node,
    Obj,
    Opaque,
    Scalar,
    Shorthand,
    Str,
)

# ``Json`` is a string alias naming collections.abc types that shapes.py does not import.
_LOCALNS = {"Sequence": Sequence, "Mapping": Mapping}

# What a reader finds at a shape's key when it is not what the schema checked there, mostly
# because the normalizer rewrote it (None: the key is moved away and never reaches a reader).
_G1_MOVE = "G1 key: normalize.operator_box moves it into reconcile/emit/runtime/observe"
_G0_CRDS = "normalize.crds turns a G0 list (entries with name:) into a map by name"
_AS_TEXT = "normalize.crd_entry renders the values as text"
_SELECTOR_AS_TEXT = "normalize.crd_entry renders the values as text, in the entry and its cross"
_READ_AS: dict[tuple[type, str], tuple[Node | None, str]] = {
    **{
        (shapes.CrdEntry, key): (None, "normalize.crd_entry moves it under operatorBox.reconcile")
        for key in ("workers", "resync", "queue", "reconciler")
    },
    **{(shapes.OperatorBox, key): (None, _G1_MOVE) for key in formats.G1_BOX_KEYS},
    (shapes.OperatorBox, "watch"): (None, _G1_MOVE),
    (shapes.OperatorBox, "cross"): (None, _G1_MOVE),
    (shapes.Komposer, "sources"): (None, "normalize.komposer renames the G0 sources to imports"),
    (shapes.KatalogSpec, "crds"): (MapOf(formats.CRD_ENTRY), _G0_CRDS),
    (shapes.KomposerSpec, "crds"): (MapOf(formats.OVERRIDE_ENTRY), _G0_CRDS),
    (shapes.CrdEntry, "dependsOn"): (
        MapOf(Obj(fields={"condition": F(Str())})),
        "normalize.depends_on_map: {db: healthy} and [db] become {db: {condition: ...}}",
    ),
    (shapes.CrdEntry, "labels"): (MapOf(Str()), _AS_TEXT),
    (shapes.CrdEntry, "annotations"): (MapOf(Str()), _AS_TEXT),
    (shapes.CrdEntry, "labelSelector"): (MapOf(Str()), _SELECTOR_AS_TEXT),
    (shapes.CrossEntry, "labelSelector"): (MapOf(Str()), _SELECTOR_AS_TEXT),
    (shapes.Declaration, "labels"): (
        formats.STRING_MAP,
        "normalize.unify_spellings turns a [{key, value}] list into a map",
    ),
    (shapes.Declaration, "hasStatus"): (
        Bool(),
        "the schema's other option is AnyValue behind an `is None` test: null only",
    ),
}

# Known mismatches whose fix lies outside shapes.py; each must still be one (the test says
# when an entry can go).
_SMALLER_METADATA = (
    "this kind's metadata has fewer keys than Metadata: its own TypedDict needs "
    "model/document.py's Named.metadata to accept it"
)
_FOLLOW_UP: dict[tuple[type, str], str] = {
    (shapes.Motif, "metadata"): _SMALLER_METADATA,
    (shapes.SimulateFile, "metadata"): _SMALLER_METADATA,
    (shapes.E2EFile, "metadata"): _SMALLER_METADATA,
}

# TypedDicts that stand for several Obj nodes at once: each node's keys are a subset, and
# together the nodes the walk paired with the shape have exactly its keys.
_MERGED = {
    shapes.Declaration: "one item shape for every resource kind; the schema picks the keys",
    shapes.WatchEntry: "a watch item, or {include: FILE} until compose expands the include",
}

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}
_ANY = frozenset({"mapping", "list", *_SCALARS.values()})


class _JsonProbe(TypedDict):
    value: Json


_JSON = typing.get_type_hints(_JsonProbe, localns=_LOCALNS)["value"]


@functools.cache
def _hints(shape: type) -> dict[str, object]:
    return typing.get_type_hints(shape, localns=_LOCALNS, include_extras=True)


def _is_free(ann: object) -> bool:
    """``Json``, or its unresolved self-reference inside ``JsonObject``/``JsonDict``."""
    return ann == _JSON or isinstance(ann, ForwardRef)


def _alternatives(ann: object) -> list[object]:
    origin = typing.get_origin(ann)
    if origin in (Required, NotRequired):
        return _alternatives(typing.get_args(ann)[0])
    if origin in (Union, types.UnionType):
        return [alt for arg in typing.get_args(ann) for alt in _alternatives(arg)]
    if origin is Literal:
        return [type(value) for value in typing.get_args(ann)]
    return [ann]


def _form(alt: object) -> str:
    """The YAML type an annotation alternative stands for."""
    if typing.is_typeddict(alt) or typing.get_origin(alt) in (dict, Mapping):
        return "mapping"
    if typing.get_origin(alt) in (list, Sequence):
        return "list"
    if isinstance(alt, type) and alt in _SCALARS:
        return _SCALARS[alt]
    raise TypeError(f"no rule for the annotation {alt!r}")


def _options(node: Node) -> list[Node]:
    if isinstance(node, Either):
        return [option for _, choice in node.options for option in _options(choice)]
    return [node]


def _forms(node: Node) -> frozenset[str]:
    """The YAML types of the values ``node`` lets through."""
    if isinstance(node, Obj | MapOf | Opaque):
        return frozenset({"mapping"})
    if isinstance(node, ListOf):
        return frozenset({"list"})
    if isinstance(node, Str | Duration):
        return frozenset({"string"})
    if isinstance(node, Int):
        return frozenset({"integer", *(["string"] if node.strings else [])})
    if isinstance(node, Bool):
        return frozenset({"boolean", *(["string"] if node.templates else [])})
    if isinstance(node, Scalar):
        return frozenset({"string", "integer", "number", "boolean"})
    if isinstance(node, AnyValue):
        return _ANY
    if isinstance(node, Shorthand):  # the word becomes its value
        return frozenset(
            "mapping" if isinstance(v, dict) else _SCALARS[type(v)] for v in node.words.values()
        )
    if isinstance(node, Either):
        return frozenset().union(*(_forms(option) for option in _options(node)))
    raise TypeError(f"no rule for the schema node {type(node).__name__}")


def _words(forms: Iterable[str]) -> str:
    return " or ".join(sorted(set(forms)))


def _keys(shape: type) -> set[str]:
    return set(_hints(shape))


def _value_type(alt: object) -> object:
    return typing.get_args(alt)[-1]


@dataclass
class Walk:
    """Compares shapes with schema nodes; ``problems`` name each mismatch with its path."""

    problems: list[str] = field(default_factory=list)
    merged: dict[type, set[str]] = field(default_factory=dict)
    seen: set[tuple[type, str, int]] = field(default_factory=set)
    applied: set[tuple[type, str]] = field(default_factory=set)
    followed: set[tuple[type, str]] = field(default_factory=set)

    def root(self, shape: type, node: Obj) -> list[str]:
        self.typeddict(shape, node, shape.__name__)
        for merged, keys in self.merged.items():
            if extra := _keys(merged) - keys:
                self.problems.append(
                    f"{merged.__name__}: keys no schema node has: {', '.join(sorted(extra))}"
                )
        return self.problems

    def value(self, ann: object, node: Node, path: str, *, both_ways: bool = True) -> None:
        if _is_free(ann):
            return
        alts, options = _alternatives(ann), _options(node)
        given = {_form(alt) for alt in alts}
        missing = any(_forms(option) - given for option in options)
        if missing or (both_ways and self.unused(alts, options)):
            self.problems.append(
                f"{path}: shape says {_words(given)}, schema says "
                f"{_words(f for option in options for f in _forms(option))}"
            )
        for option in options:
            self.pair(alts, option, path)
        tds = [alt for alt in alts if typing.is_typeddict(alt)]
        objs = [option for option in options if isinstance(option, Obj)]
        if tds and objs and (unpaired := set(tds) - {_closest(tds, obj) for obj in objs}):
            names = ", ".join(sorted(td.__name__ for td in unpaired))
            self.problems.append(f"{path}: no schema mapping for {names}")

    def unused(self, alts: list[object], options: list[Node]) -> bool:
        forms = {f for option in options for f in _forms(option)}
        scalar = bool(forms - {"mapping", "list"})
        return any(
            _form(alt) not in forms and (_form(alt) in ("mapping", "list") or not scalar)
            for alt in alts
        )

    def pair(self, alts: list[object], option: Node, path: str) -> None:
        """Recurse into the alternatives of the same YAML type as a container ``option``."""
        maps = [alt for alt in alts if typing.get_origin(alt) in (dict, Mapping)]
        tds = [alt for alt in alts if typing.is_typeddict(alt)]
        if isinstance(option, ListOf):
            for alt in alts:
                if _form(alt) == "list":
                    self.value(_value_type(alt), option.item, f"{path}[*]")
        elif isinstance(option, Obj):
            if tds:
                self.typeddict(_closest(tds, option), option, path)
            else:
                for alt in maps:
                    self.fields_as_map(_value_type(alt), option, path)
        elif isinstance(option, MapOf | Opaque):
            for td in tds:
                self.problems.append(f"{path}: shape says {td.__name__}, schema says free keys")
            for alt in maps:
                if isinstance(option, MapOf):
                    self.value(_value_type(alt), option.value, f"{path}[*]")
                elif not _is_free(_value_type(alt)):
                    self.problems.append(f"{path}: shape types the values of an opaque mapping")

    def fields_as_map(self, ann: object, obj: Obj, path: str) -> None:
        """``dict[str, X]`` for an Obj: every field is an X, and each alternative of X is
        some field's."""
        if _is_free(ann):
            return
        for name, spec in obj.fields.items():
            self.value(ann, spec.node, f"{path}.{name}", both_ways=False)
        options = [option for spec in obj.fields.values() for option in _options(spec.node)]
        if self.unused(_alternatives(ann), options):
            self.problems.append(f"{path}[*]: shape says {ann}, no field of the schema is one")

    def typeddict(self, shape: type, obj: Obj, path: str) -> None:
        hints = _hints(shape)
        fields = self.read_as(shape, obj)
        only_schema = set(fields) - set(hints)
        only_shape = set() if shape in _MERGED else set(hints) - set(fields)
        if shape in _MERGED:
            self.merged.setdefault(shape, set()).update(fields)
        if only_schema or only_shape:
            self.problems.append(
                f"{path}: keys only in the shape {shape.__name__}: "
                f"{', '.join(sorted(only_shape)) or '-'}; only in the schema: "
                f"{', '.join(sorted(only_schema)) or '-'}"
            )
        if obj.extra is not None:
            self.problems.append(f"{path}: the schema takes keys {shape.__name__} lacks")
        for name in sorted(set(fields) & set(hints)):
            # one visit per field node: resource kinds share theirs, and so do Obj copies
            if (shape, name, id(fields[name])) not in self.seen:
                self.seen.add((shape, name, id(fields[name])))
                self.key(shape, name, hints[name], fields[name], f"{path}.{name}")

    def key(self, shape: type, name: str, ann: object, node: Node, path: str) -> None:
        if (shape, name) not in _FOLLOW_UP:
            self.value(ann, node, path)
            return
        self.followed.add((shape, name))
        aside = Walk()
        aside.value(ann, node, path)
        if not aside.problems:
            self.problems.append(f"{path}: matches now, drop it from _FOLLOW_UP")

    def read_as(self, shape: type, obj: Obj) -> dict[str, Node]:
        """``obj``'s fields as a reader of ``shape`` finds them (see ``_READ_AS``)."""
        out: dict[str, Node] = {}
        for name, spec in obj.fields.items():
            if (shape, name) not in _READ_AS:
                out[name] = spec.node
                continue
            self.applied.add((shape, name))
            node = _READ_AS[shape, name][0]
            if node is not None:
                out[name] = node
        return out


def _closest(tds: list[type], obj: Obj) -> type:
    return max(tds, key=lambda td: len(_keys(td) & set(obj.fields)))


ROOTS = [
    (shapes.Katalog, formats.KINDS["Katalog"]),
    (shapes.Komposer, formats.KINDS["Komposer"]),
    (shapes.Motif, formats.KINDS["Motif"]),
    (shapes.SimulateFile, formats.KINDS["Simulate"]),
    (shapes.E2EFile, formats.KINDS["E2E"]),
    (shapes.CrdEntry, formats.CRD_ENTRY),
]


@pytest.mark.parametrize(("shape", "node"), ROOTS, ids=[shape.__name__ for shape, _ in ROOTS])
def test_shape_matches_the_normalized_schema(shape: type, node: Obj) -> None:
    problems = Walk().root(shape, node)
    assert not problems, "\n".join(problems)


def test_every_table_entry_is_reached() -> None:
    walks = [Walk() for _ in ROOTS]
    for walk, (shape, node) in zip(walks, ROOTS, strict=True):
        walk.root(shape, node)
    assert set().union(*(walk.applied for walk in walks)) == set(_READ_AS)
    assert set().union(*(walk.followed for walk in walks)) == set(_FOLLOW_UP)


# -- the walk itself catches the mistakes it is for -----------------------------------------


class _Input(TypedDict, total=False):
    name: str


class _Wrong(TypedDict, total=False):
    inputs: dict[str, _Input]
    imports: list[_Input]
    extra: JsonObject
    single: _Input


_WRONG_SCHEMA = Obj(
    fields={
        "inputs": F(ListOf(Obj(fields={"name": F(Str())}))),
        "imports": F(
            ListOf(
                Either((formats.is_str, Str()), (formats.is_map, Obj(fields={"name": F(Str())})))
            )
        ),
        "extra": F(ListOf(Str())),
        "single": F(Obj(fields={"name": F(Str()), "type": F(Str())})),
    }
)


def test_the_walk_reports_nested_mismatches_with_their_paths() -> None:
    assert Walk().root(_Wrong, _WRONG_SCHEMA) == [
        "_Wrong.extra: shape says mapping, schema says list",
        "_Wrong.imports[*]: shape says mapping, schema says mapping or string",
        "_Wrong.inputs: shape says mapping, schema says list",
        "_Wrong.single: keys only in the shape _Input: -; only in the schema: type",
    ]

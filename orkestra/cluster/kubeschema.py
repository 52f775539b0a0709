"""Kubernetes' built-in schemas and how patches and field ownership read them.

This module owns the vendored OpenAPI v3 definitions of the built-in kinds
(``schemas/kubernetes-v1.32.json.gz``, written by ``tools/gen_kube_schemas.py``, loaded once
on first use) and :class:`SchemaNode`, the navigation both strategic merge patch and
server-side apply use: follow ``$ref``/``allOf``, step into a field or the items of a list,
and read a list's patch strategy and merge key (SMP) or its list type and map keys and a
map's type (SSA). A CRD's ``openAPIV3Schema`` is navigated the same way: it has no refs, its
lists are atomic unless ``x-kubernetes-list-type`` says otherwise, and its ``metadata`` is
read as ObjectMeta like the API server does. Fields a schema does not declare get
:data:`UNKNOWN`, which behaves like structured-merge-diff's deduced type (maps granular,
lists atomic). A part of a CRD schema that is not a mapping (a bare ``true`` where a schema
belongs) reads as no schema rather than failing; :func:`orkestra.cluster.openapi.crd_problems`
reports it where the CRD is read. Hand-written because no Python library carries these
semantics; the schemas come from the ``kubernetes-validate`` package at generation time only.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections import OrderedDict
from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from orkestra.kubeobjects import Json, JsonDict, JsonObject

KUBERNETES_VERSION = "v1.32.0"
DATA_FILE = Path(__file__).resolve().parent / "schemas" / "kubernetes-v1.32.json.gz"
REF_PREFIX = "#/components/schemas/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

LIST_ATOMIC, LIST_SET, LIST_MAP = "atomic", "set", "map"
MAP_GRANULAR, MAP_ATOMIC = "granular", "atomic"
SCALAR, LIST, MAP, ANY = "scalar", "list", "map", "any"
_EMPTY: JsonObject = {}


class _Components(TypedDict):
    schemas: dict[str, JsonObject]


class _Document(TypedDict):
    """The vendored file: an OpenAPI v3 document of the built-in kinds' definitions."""

    components: _Components


@functools.cache
def _document() -> _Document:
    with gzip.open(DATA_FILE, "rb") as handle:
        document: _Document = json.loads(handle.read())
    return document


def definitions() -> Mapping[str, JsonObject]:
    """Definition name -> OpenAPI v3 schema (refs ``#/components/schemas/<name>``).

    Shared and cached: consumers must not mutate it."""
    return _document()["components"]["schemas"]


def _gvks(schema: JsonObject) -> Iterator[tuple[str, str, str]]:
    """The (group, version, kind) triples of ``x-kubernetes-group-version-kind``."""
    found = schema.get("x-kubernetes-group-version-kind")
    for gvk in found if isinstance(found, list) else ():
        yield (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))


@functools.cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for key in _gvks(schema):
            index.setdefault(key, name)
    return index


def definition_name(group: str, version: str, kind: str) -> str | None:
    """The definition of a kind (``x-kubernetes-group-version-kind``; core group is "")."""
    return _gvk_index().get((group, version, kind))


def kind_schema(group: str, version: str, kind: str) -> JsonObject | None:
    """The root schema of a built-in kind, or None when it is not vendored."""
    name = definition_name(group, version, kind)
    return definitions()[name] if name else None


def ref_name(ref: str) -> str:
    """``#/components/schemas/X`` -> ``X``."""
    return ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else ref


def resolve(schema: Json, defs: Mapping[str, JsonObject] | None = None) -> JsonObject:
    """A schema with its ``$ref`` and ``allOf`` folded in; the node's own keys win.

    Returns the node itself (not a copy) when there is nothing to fold; anything that is not
    a schema (a bare boolean where a CRD should have a mapping) reads as an empty one."""
    if not schema or not isinstance(schema, dict):
        return _EMPTY
    ref, all_of = schema.get("$ref"), schema.get("allOf")
    if ref is None and not all_of:
        return schema
    if defs is None:
        defs = definitions()
    merged: JsonDict = {}
    if ref is not None:
        merged.update(resolve(defs.get(ref_name(ref)), defs))
    for part in all_of if isinstance(all_of, list) else ():
        _fold(merged, resolve(part, defs))
    _fold(merged, {k: v for k, v in schema.items() if k not in ("$ref", "allOf")})
    return merged


def _fold(into: JsonDict, part: JsonObject) -> None:
    for key, value in part.items():
        current = into.get(key)
        if key == "properties" and isinstance(current, dict) and isinstance(value, dict):
            into[key] = {**current, **value}
        elif key == "required" and isinstance(current, list) and isinstance(value, list):
            into[key] = [*current, *(v for v in value if v not in current)]
        else:
            into[key] = value


@dataclass(frozen=True)
class ListSemantics:
    """How a list merges: SMP's patch strategies and merge key, SSA's list type and keys."""

    strategies: frozenset[str] = frozenset()
    merge_key: str | None = None
    list_type: str = LIST_ATOMIC
    map_keys: tuple[str, ...] = ()

    @property
    def merge(self) -> bool:
        """SMP merges this list (``x-kubernetes-patch-strategy`` contains ``merge``)."""
        return "merge" in self.strategies


def _text(value: Json) -> str | None:
    return value if isinstance(value, str) else None


def _strategies(schema: JsonObject) -> frozenset[str]:
    raw = _text(schema.get("x-kubernetes-patch-strategy")) or ""
    return frozenset(s.strip() for s in raw.split(",") if s.strip())


def list_semantics(schema: JsonObject) -> ListSemantics:
    """The list semantics of a (resolved) list schema.

    The list type comes from ``x-kubernetes-list-type``; without it, as Kubernetes' own
    OpenAPI-to-SSA conversion does, a ``merge`` patch strategy makes a map keyed by the
    patch merge key (a set when there is no key) and anything else is atomic."""
    strategies = _strategies(schema)
    merge_key = _text(schema.get("x-kubernetes-patch-merge-key"))
    list_type = _text(schema.get("x-kubernetes-list-type"))
    declared = schema.get("x-kubernetes-list-map-keys")
    keys = tuple(k for k in declared if isinstance(k, str)) if isinstance(declared, list) else ()
    if list_type is None:
        if "merge" in strategies:
            list_type = LIST_MAP if merge_key else LIST_SET
            keys = (merge_key,) if merge_key else ()
        else:
            list_type = LIST_ATOMIC
    elif list_type == LIST_MAP and not keys and merge_key:
        keys = (merge_key,)
    return ListSemantics(strategies, merge_key, list_type, keys)


def map_type(schema: JsonObject) -> str:
    """``granular`` (fields owned one by one) or ``atomic`` (``x-kubernetes-map-type``)."""
    kind = schema.get("x-kubernetes-map-type")
    return MAP_ATOMIC if kind == MAP_ATOMIC else MAP_GRANULAR


def _shape(schema: JsonObject) -> str:
    kind = schema.get("type")
    if kind == "array" or (kind is None and "items" in schema):
        return LIST
    if kind == "object" or (
        kind is None and ("properties" in schema or "additionalProperties" in schema)
    ):
        return MAP
    if (
        kind is None
        and not schema.get("x-kubernetes-int-or-string")
        and "oneOf" not in schema
        and "anyOf" not in schema
    ):
        return ANY
    return SCALAR


class SchemaNode:
    """One resolved schema node; children are resolved lazily and cached.

    ``shape`` is ``scalar``, ``list``, ``map`` (struct or string map) or ``any`` (no type:
    read from the value, like :data:`UNKNOWN`). ``typed`` nodes describe Go types (built-in
    kinds), whose zero values the API server compares against; CRD nodes are not typed.

    What field ownership asks of a node on every write is computed once here:
    ``granular_map``/``granular_list`` (a map value is owned field by field, a list value
    item by item), ``owns_map``/``owns_list`` (such a value is itself owned as a node outside
    list items: not for Go structs and lists, whose zero values already exist) and
    ``sorted_map_keys`` (a list-map's keys in the order its ``k:`` elements print them); so
    is what strict decoding asks (``preserves_unknown``, ``walks_fields``, ``field_names``
    and ``strict_inert``: :mod:`orkestra.cluster.strict`)."""

    __slots__ = (
        "_children",
        "_defs",
        "_items",
        "_list",
        "field_names",
        "granular_list",
        "granular_map",
        "list_type",
        "map_atomic",
        "map_keys",
        "owns_list",
        "owns_map",
        "preserves_unknown",
        "schema",
        "shape",
        "sorted_map_keys",
        "strategies",
        "strict_inert",
        "struct",
        "typed",
        "walks_fields",
    )

    def __init__(
        self,
        schema: JsonObject | None,
        defs: Mapping[str, JsonObject] | None = None,
        *,
        typed: bool = True,
    ) -> None:
        self._defs = defs
        self.typed = typed and schema is not None
        self.schema: JsonObject = resolve(schema, defs) if schema else _EMPTY
        self.shape = _shape(self.schema)
        self.strategies = _strategies(self.schema)
        self.map_atomic = map_type(self.schema) == MAP_ATOMIC
        self.struct = "properties" in self.schema
        self._children: dict[str, SchemaNode] = {}
        self._items: SchemaNode | None = None
        self._list: ListSemantics | None = None
        semantics = self.semantics if self.shape == LIST else ListSemantics()
        self.list_type = semantics.list_type
        self.map_keys = semantics.map_keys
        self.sorted_map_keys = tuple(sorted(self.map_keys))
        self.granular_map = self.shape not in (SCALAR, LIST) and not self.map_atomic
        self.granular_list = self.shape == LIST and self.list_type != LIST_ATOMIC
        self.owns_map = not self.typed or not self.struct
        self.owns_list = not self.typed
        self.preserves_unknown = bool(self.schema.get("x-kubernetes-preserve-unknown-fields"))
        self.walks_fields, self.field_names = _declared_fields(self.schema)
        self.strict_inert = _strict_inert(self.schema, defs)

    def __repr__(self) -> str:
        return f"SchemaNode({self.shape}, {str(self.schema.get('description', ''))[:40]!r})"

    @property
    def semantics(self) -> ListSemantics:
        if self._list is None:
            self._list = list_semantics(self.schema)
        return self._list

    @property
    def merge_key(self) -> str | None:
        return self.semantics.merge_key

    def declares(self, name: str) -> bool:
        """Whether ``name`` is one of this struct's declared properties."""
        return name in self._properties()

    def _properties(self) -> JsonObject:
        props = self.schema.get("properties")
        return props if isinstance(props, dict) else _EMPTY

    def field(self, name: str) -> SchemaNode:
        """The node of field ``name`` (a declared property or a map value)."""
        child = self._children.get(name)
        if child is None:
            child = self._children[name] = self._child(name)
        return child

    def _child(self, name: str) -> SchemaNode:
        if self is UNKNOWN:
            return UNKNOWN
        prop = self._properties().get(name)
        if not isinstance(prop, dict):
            extra = self.schema.get("additionalProperties")
            prop = extra if isinstance(extra, dict) else None
        return SchemaNode(prop, self._defs, typed=self.typed) if prop is not None else UNKNOWN

    def items(self) -> SchemaNode:
        """The node of this list's items."""
        if self._items is None:
            items = self.schema.get("items")
            self._items = (
                SchemaNode(items, self._defs, typed=self.typed)
                if isinstance(items, dict) and self is not UNKNOWN
                else UNKNOWN
            )
        return self._items

    def at(self, *path: str) -> SchemaNode:
        """The node at a path of field names (``"[]"`` steps into list items)."""
        node = self
        for step in path:
            node = node.items() if step == "[]" else node.field(step)
        return node


def _declared_fields(schema: JsonObject) -> tuple[bool, Container[str] | None]:
    """For strict decoding: whether a map value here is checked at all (not when nothing is
    declared, or ``additionalProperties`` is true), and the names it may have (None: any,
    ``additionalProperties`` being a schema)."""
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    if props is None and extra in (None, True):
        return False, None
    if isinstance(extra, dict):
        return True, None
    return True, props if isinstance(props, dict | list | str) else ()


def _flat(schema: JsonObject) -> bool:
    """Whether strict decoding stops at a value of this schema: nothing under it is checked
    (a scalar, an object declaring nothing, anything preserving unknown fields)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return True
    return not _declared_fields(schema)[0] and not isinstance(schema.get("items"), dict)


def _strict_inert(schema: JsonObject, defs: Mapping[str, JsonObject] | None) -> bool:
    """Whether strict decoding can find nothing under a value of this schema, looking one
    level down: besides a flat schema, a list of flat items or a map of flat values (labels,
    annotations, a ConfigMap's data), which the walk then need not enter."""
    if _flat(schema):
        return True
    items = schema.get("items")
    if isinstance(items, dict) and not _flat(resolve(items, defs)):
        return False
    walks, names = _declared_fields(schema)
    if not walks:
        return True
    extra = schema.get("additionalProperties")
    return (
        names is None
        and not schema.get("properties")
        and isinstance(extra, dict)
        and _flat(resolve(extra, defs))
    )


UNKNOWN = SchemaNode(None)
"""Fields no schema declares: maps granular, lists atomic, any value accepted."""


@functools.cache
def kind_node(group: str, version: str, kind: str) -> SchemaNode | None:
    """The cached root node of a built-in kind (None when it is not vendored)."""
    schema = kind_schema(group, version, kind)
    return SchemaNode(schema, definitions()) if schema is not None else None


_CRD_NODES: OrderedDict[int, tuple[JsonObject, SchemaNode]] = OrderedDict()
_OPEN_OBJECT: JsonObject = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_CRD_CACHE_SIZE = 256


def crd_node(schema: Json) -> SchemaNode:
    """The root node of a custom resource from its ``openAPIV3Schema``.

    ``apiVersion``, ``kind`` and ``metadata`` are read as the API server reads them (ObjectMeta
    for metadata), whatever the CRD declares. Nodes are cached per schema object (the cache
    keeps the schema alive, so its identity stays valid); do not mutate a schema once used."""
    if not isinstance(schema, dict):
        schema = _OPEN_OBJECT
    key = id(schema)
    hit = _CRD_NODES.get(key)
    if hit is not None and hit[0] is schema:
        _CRD_NODES.move_to_end(key)
        return hit[1]
    declared = schema.get("properties")
    properties = {
        **(declared if isinstance(declared, dict) else {}),
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"$ref": REF_PREFIX + OBJECT_META},
    }
    node = SchemaNode({**schema, "properties": properties}, _LazyDefinitions(), typed=False)
    _CRD_NODES[key] = (schema, node)
    if len(_CRD_NODES) > _CRD_CACHE_SIZE:
        _CRD_NODES.popitem(last=False)
    return node


class _LazyDefinitions(Mapping[str, JsonObject]):
    """:func:`definitions`, loaded only when a CRD schema first follows a ``$ref``."""

    def __getitem__(self, name: str) -> JsonObject:
        return definitions()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(definitions())

    def __len__(self) -> int:
        return len(definitions())


SchemaLike = SchemaNode | JsonObject | None


def as_node(schema: SchemaLike) -> SchemaNode:
    """A :class:`SchemaNode` for what callers pass as a kind's schema: a node, a built-in
    definition or a CRD's ``openAPIV3Schema`` (a dict), or None (nothing known)."""
    if isinstance(schema, SchemaNode):
        return schema
    if schema is None:
        return UNKNOWN
    if "x-kubernetes-group-version-kind" in schema:
        for group, version, kind in _gvks(schema):
            node = kind_node(group, version, kind)
            if node is not None and node.schema is schema:
                return node
        return SchemaNode(schema, definitions())
    return crd_node(schema)

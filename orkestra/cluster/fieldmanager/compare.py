"""What a write changed: walking two values with their schema into FieldsV1 trees.

This module owns :func:`diff`, the fields a write from one object to another added or
modified and those it removed, walking values with their schema (fields of a map, items of
a list-map or set by their key, atomic values as one) the way structured-merge-diff does.

What a write owns (kept as the API server does it): a manager becomes owner of the fields
its write *changed* (added or set to another value); for a create every field it sent. A PUT
that resends a field with the same value takes no ownership of it, and every manager loses
the fields a write removed or changed. Server-set metadata (uid, resourceVersion,
generation, creationTimestamp, managedFields, ...) and the identity fields (apiVersion,
kind, name, namespace) are never owned; ``status`` written through the main resource of a
kind with a status subresource is ignored, as is everything but ``status`` and ``metadata``
written through ``/status``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Final

from orkestra.cluster.fieldmanager.trees import MEMBER, FieldTree, build, element_order
from orkestra.cluster.kubeschema import LIST_MAP, SchemaLike, SchemaNode, as_node

SERVER_METADATA = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "clusterName",
    }
)
MISSING: Final = object()  # a value that is not there (a key one side lacks)
_NESTED = (dict, list)  # for isinstance: ``dict | list`` would build a union at every call


def granular(node: SchemaNode, value: object) -> str | None:
    """``map``/``list`` when a value is owned field by field or item by item, else None."""
    if isinstance(value, dict):
        return "map" if node.granular_map else None
    if isinstance(value, list) and node.granular_list:
        return "list"
    return None


def item_element(item: object, node: SchemaNode) -> str | None:
    """The path element of a list item: ``k:{...}`` in a list-map, ``v:...`` in a set."""
    if node.list_type != LIST_MAP:
        return "v:" + _encode(item, sort_keys=True)
    if not isinstance(item, dict):
        return None
    parts = []
    for name in node.sorted_map_keys:
        if name in item:
            value = item[name]
        else:
            schema = node.items().field(name).schema
            if "default" not in schema:
                return None
            value = schema["default"]
        parts.append(encode_basestring(name) + ":" + _encode(value, sort_keys=False))
    return "k:{" + ",".join(parts) + "}"


def _encode(value: object, *, sort_keys: bool) -> str:
    """Compact JSON with non-ASCII kept, as Kubernetes prints path elements; strings and
    integers (nearly every key) without setting up an encoder."""
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is int:
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)


def index_items(items: Sequence[object], node: SchemaNode) -> dict[str, object] | None:
    """Items by path element; None when one has no key or two have the same."""
    out: dict[str, object] = {}
    for item in items:
        element = item_element(item, node)
        if element is None or element in out:
            return None
        out[element] = item
    return out


def _same(a: object, b: object) -> bool:
    return a == b and (type(a) is bool) == (type(b) is bool)


def _is_empty(value: object) -> bool:
    return value is MISSING or value is None or (isinstance(value, _NESTED) and not value)


def _in_order(elements: Collection[str]) -> list[str]:
    """Path elements in the API server's canonical order, so trees are built sorted (one
    element, most lists' case, needs no sort key: an owner's uid would be parsed for it)."""
    if len(elements) < 2:
        return list(elements)
    return sorted(elements, key=element_order)


Change = tuple[FieldTree | None, FieldTree | None]  # (added or modified, removed)


def _compare(old: Any, new: Any, node: SchemaNode, item: bool, loose: bool) -> Change:
    """The fields ``new`` added or modified and those it removed, under one value; children
    in canonical order.

    ``item``: the value is a list item (always owned as a node). ``loose``: inside a list item
    only one side has, where every new map or list is owned as a node; elsewhere a typed
    (built-in) struct or list is not, because the API server compares against Go zero
    values in which those already exist."""
    if old is MISSING:
        return _added(new, node, item, loose), None
    kind = granular(node, old)
    if new is not MISSING and granular(node, new) != kind:
        kind = None
    if kind is None or (_is_empty(old) and _is_empty(new)):
        if new is MISSING:
            return None, {}
        return (None, None) if _same(old, new) else ({}, None)
    if kind == "map":
        gained, lost = _compare_map(old, new, node, loose)
    else:
        indexed = _compare_list(old, new, node)
        if indexed is None:  # items without keys or with duplicate keys: one value
            return (
                (None, None)
                if _same(old, new)
                else ({}, None)
                if new is not MISSING
                else (None, {})
            )
        gained, lost = indexed
    owns = node.owns_map if kind == "map" else node.owns_list
    return build(False, gained), build((item or loose or owns) and new is MISSING, lost)


def _added(new: object, node: SchemaNode, item: bool, loose: bool) -> FieldTree:
    """:func:`_compare` when there was nothing before (every create): only gains, in
    canonical order."""
    if isinstance(new, dict):
        if not new or not node.granular_map:
            return {}
        gained: FieldTree = {MEMBER: {}} if item or loose or node.owns_map else {}
        for key in sorted(new):
            value = new[key]  # a scalar or an empty value is a leaf: most of an object
            gained["f:" + key] = (
                _added(value, node.field(key), False, loose)
                if value and isinstance(value, _NESTED)
                else {}
            )
        return gained
    if not isinstance(new, list) or not new or not node.granular_list:
        return {}
    index = index_items(new, node)
    if index is None:  # items without keys or with duplicate keys: one value
        return {}
    items = node.items()
    gained = {MEMBER: {}} if item or loose or node.owns_list else {}
    for element in _in_order(index):
        gained[element] = _added(index[element], items, True, True)
    return gained


def _compare_map(
    old: Mapping[str, object], new: Any, node: SchemaNode, loose: bool
) -> tuple[FieldTree, FieldTree]:
    gained: FieldTree = {}
    lost: FieldTree = {}
    new_map = new if new is not MISSING else {}
    for key in sorted(old.keys() | new_map.keys()):
        before, after = old.get(key, MISSING), new_map.get(key, MISSING)
        if (
            before is not MISSING
            and after is not MISSING
            and before == after
            and (type(before) is bool) == (type(after) is bool)
        ):
            continue
        g, r = _compare(before, after, node.field(key), False, loose)
        if g is not None:
            gained["f:" + key] = g
        if r is not None:
            lost["f:" + key] = r
    return gained, lost


def _compare_list(
    old: Sequence[object], new: Any, node: SchemaNode
) -> tuple[FieldTree, FieldTree] | None:
    old_items = index_items(old, node)
    new_items = index_items(new, node) if new is not MISSING else {}
    if old_items is None or new_items is None:
        return None
    items = node.items()
    gained: FieldTree = {}
    lost: FieldTree = {}
    for element in _in_order(old_items.keys() | new_items.keys()):
        before = old_items.get(element, MISSING)
        after = new_items.get(element, MISSING)
        if before is not MISSING and after is not MISSING and before == after:
            continue
        loose = before is MISSING or after is MISSING
        g, r = _compare(before, after, items, True, loose)
        if g is not None:
            gained[element] = g
        if r is not None:
            lost[element] = r
    return gained, lost


def ignored(key: str, subresource: str, has_status: bool) -> bool:
    if key in ("apiVersion", "kind"):
        return True
    if subresource == "status":
        return key not in ("status", "metadata")
    return key == "status" and has_status and not subresource


def diff(
    old: Mapping[str, object] | None,
    new: Mapping[str, object],
    schema: SchemaLike,
    *,
    subresource: str = "",
    has_status: bool = True,
) -> Change:
    """The fields a write from ``old`` to ``new`` added or modified, and those it removed,
    as FieldsV1 trees (None when there are none), leaving out what nobody owns. The trees
    are built in the API server's canonical order (fields by name, items by key), so they
    go into ``managedFields`` as they are."""
    node = as_node(schema)
    old = old or {}
    gained: FieldTree = {}
    lost: FieldTree = {}
    for key in sorted(old.keys() | new.keys()):
        if ignored(key, subresource, has_status):
            continue
        before, after = old.get(key, MISSING), new.get(key, MISSING)
        if key == "metadata":
            if before is after:  # a status write keeps the stored metadata as it is
                continue
            before, after = _visible_metadata(before), _visible_metadata(after)
        if (before is MISSING and after is MISSING) or before == after:
            continue
        g, r = _compare(before, after, node.field(key), False, False)
        if key == "metadata":  # the metadata node itself is never owned
            g = _strip_member(g)
            r = _strip_member(r)
        if g is not None:
            gained["f:" + key] = g
        if r is not None:
            lost["f:" + key] = r
    return (gained or None), (lost or None)


def _visible_metadata(meta: object) -> object:
    if not isinstance(meta, dict):
        return MISSING
    visible = {k: v for k, v in meta.items() if k not in SERVER_METADATA}
    return visible if visible else MISSING


def _strip_member(tree: FieldTree | None) -> FieldTree | None:
    if tree is None:
        return None
    return build(False, {k: v for k, v in tree.items() if k != MEMBER})

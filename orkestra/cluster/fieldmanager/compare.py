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
from collections.abc import Iterator
from typing import Any

from orkestra.cluster.fieldmanager.trees import MEMBER, Tree, build, canonical
from orkestra.cluster.kubeschema import (
    LIST,
    LIST_ATOMIC,
    LIST_MAP,
    SCALAR,
    SchemaLike,
    SchemaNode,
    as_node,
)

Obj = dict[str, Any]
SERVER_METADATA = frozenset({
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
    "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
    "clusterName"})
MISSING: Any = object()


def granular(node: SchemaNode, value: Any) -> str | None:
    """``map``/``list`` when a value is owned field by field or item by item, else None."""
    if isinstance(value, dict):
        return "map" if node.shape != SCALAR and node.shape != LIST and not node.map_atomic \
            else None
    if isinstance(value, list) and node.shape == LIST and node.list_type != LIST_ATOMIC:
        return "list"
    return None


def item_element(item: Any, node: SchemaNode) -> str | None:
    """The path element of a list item: ``k:{...}`` in a list-map, ``v:...`` in a set."""
    if node.list_type == LIST_MAP:
        if not isinstance(item, dict):
            return None
        key = {}
        for name in sorted(node.map_keys):
            if name in item:
                key[name] = item[name]
            elif "default" in node.items().field(name).schema:
                key[name] = node.items().field(name).schema["default"]
            else:
                return None
        return "k:" + json.dumps(key, separators=(",", ":"), ensure_ascii=False)
    return "v:" + json.dumps(item, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def index_items(items: list[Any], node: SchemaNode) -> dict[str, Any] | None:
    """Items by path element; None when one has no key or two have the same."""
    out: dict[str, Any] = {}
    for item in items:
        element = item_element(item, node)
        if element is None or element in out:
            return None
        out[element] = item
    return out


def _same(a: Any, b: Any) -> bool:
    return a == b and (type(a) is bool) == (type(b) is bool)


def _is_empty(value: Any) -> bool:
    return value is MISSING or value is None or (isinstance(value, dict | list) and not value)


Change = tuple[Tree | None, Tree | None]  # (added or modified, removed)


def _compare(old: Any, new: Any, node: SchemaNode, item: bool, loose: bool) -> Change:
    """The fields ``new`` added or modified and those it removed, under one value.

    ``item``: the value is a list item (always owned as a node). ``loose``: inside a list item
    only one side has, where every new map or list is owned as a node; elsewhere a typed
    (built-in) struct or list is not, because the API server compares against Go zero
    values in which those already exist."""
    if old is MISSING:
        return _added(new, node, item, loose), None
    kind_old = granular(node, old)
    kind_new = granular(node, new) if new is not MISSING else None
    kind = kind_new if old is MISSING else kind_old if new is MISSING else \
        (kind_old if kind_old == kind_new else None)
    if kind is None or (_is_empty(old) and _is_empty(new)):
        if old is MISSING:
            return {}, None
        if new is MISSING:
            return None, {}
        return (None, None) if _same(old, new) else ({}, None)
    if kind == "map":
        gained, lost = _compare_map(old, new, node, loose)
    else:
        indexed = _compare_list(old, new, node)
        if indexed is None:  # items without keys or with duplicate keys: one value
            return (None, None) if _same(old, new) else \
                ({}, None) if new is not MISSING else (None, {})
        gained, lost = indexed
    owned_node = item or loose or not node.typed or not (node.struct or kind == "list")
    if owned_node and old is MISSING:
        return build(True, gained), build(False, lost)
    if owned_node and new is MISSING:
        return build(False, gained), build(True, lost)
    return build(False, gained), build(False, lost)


def _added(new: Any, node: SchemaNode, item: bool, loose: bool) -> Tree | None:
    """:func:`_compare` when there was nothing before (every create): only gains."""
    kind = granular(node, new)
    if kind is None or _is_empty(new):
        return {}
    gained: Tree = {}
    if kind == "map":
        for key, value in new.items():
            child = _added(value, node.field(key), False, loose)
            if child is not None:
                gained["f:" + key] = child
    else:
        index = index_items(new, node)
        if index is None:  # items without keys or with duplicate keys: one value
            return {}
        items = node.items()
        for element, value in index.items():
            child = _added(value, items, True, True)
            if child is not None:
                gained[element] = child
    owned_node = item or loose or not node.typed or not (node.struct or kind == "list")
    return build(owned_node, gained)


def _compare_map(old: Any, new: Any, node: SchemaNode, loose: bool) -> tuple[Tree, Tree]:
    gained: Tree = {}
    lost: Tree = {}
    old_map = old if old is not MISSING else {}
    new_map = new if new is not MISSING else {}
    for key in _keys(old_map, new_map):
        before, after = old_map.get(key, MISSING), new_map.get(key, MISSING)
        if before is not MISSING and after is not MISSING and before == after \
                and (type(before) is bool) == (type(after) is bool):
            continue
        g, r = _compare(before, after, node.field(key), False, loose)
        if g is not None:
            gained["f:" + key] = g
        if r is not None:
            lost["f:" + key] = r
    return gained, lost


def _keys(old: Obj, new: Obj) -> Iterator[str]:
    yield from old
    for key in new:
        if key not in old:
            yield key


def _compare_list(old: Any, new: Any, node: SchemaNode) -> tuple[Tree, Tree] | None:
    old_items = index_items(old, node) if old is not MISSING else {}
    new_items = index_items(new, node) if new is not MISSING else {}
    if old_items is None or new_items is None:
        return None
    items = node.items()
    gained: Tree = {}
    lost: Tree = {}
    for element in _keys(old_items, new_items):
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


def diff(old: Obj | None, new: Obj, schema: SchemaLike, *, subresource: str = "",
         has_status: bool = True) -> Change:
    """The fields a write from ``old`` to ``new`` added or modified, and those it removed,
    as FieldsV1 trees (None when there are none), leaving out what nobody owns."""
    node = as_node(schema)
    old = old or {}
    gained: Tree = {}
    lost: Tree = {}
    for key in _keys(old, new):
        if ignored(key, subresource, has_status):
            continue
        before, after = old.get(key, MISSING), new.get(key, MISSING)
        if key == "metadata":
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
    return (canonical(gained) if gained else None), (lost or None)


def _visible_metadata(meta: Any) -> Any:
    if not isinstance(meta, dict):
        return MISSING
    visible = {k: v for k, v in meta.items() if k not in SERVER_METADATA}
    return visible if visible else MISSING


def _strip_member(tree: Tree | None) -> Tree | None:
    if tree is None:
        return None
    return build(False, {k: v for k, v in tree.items() if k != MEMBER})

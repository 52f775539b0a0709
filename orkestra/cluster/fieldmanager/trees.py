"""FieldsV1 trees: the field sets of ``managedFields`` and their set operations.

This module owns the tree a FieldsV1 entry is (``f:name`` for a field, ``k:{...}`` for a
list-map item, ``v:...`` for a set item, ``i:N`` for an index; a node ``{}`` or one with a
``"."`` key is itself owned), the set operations on trees (subtract, union, intersect), their
members as the API server prints field paths, and the API server's canonical element order.
"""

from __future__ import annotations

import functools
import json
from typing import TypeAlias

from orkestra.kubeobjects import Json

# A FieldsV1 tree: each path element (``f:name``, ``k:{...}``, ``v:...``, ``i:N``, ``.``) maps
# to the tree under it.
FieldTree: TypeAlias = dict[str, "FieldTree"]
MEMBER = "."


def is_owned(node: FieldTree) -> bool:
    return not node or MEMBER in node


def member_node(children: FieldTree) -> FieldTree:
    """A node that is itself owned, with ``children`` under it."""
    return {MEMBER: {}, **children} if children else {}


def build(member: bool, children: FieldTree) -> FieldTree | None:
    """A node (owned itself or not) with ``children``; None when it holds nothing."""
    if member:
        return member_node(children)
    return children or None


def subtract(tree: FieldTree, other: FieldTree) -> FieldTree | None:
    """``tree`` without the members of ``other`` (not recursive: a removed node's children
    stay); None when nothing is left. ``tree`` itself when ``other`` takes nothing from it
    (the usual case: a write rarely touches what another manager owns)."""
    owned = not tree or MEMBER in tree
    if not other:  # ``other`` is the node itself: only the membership goes
        if not owned:
            return tree
        return {k: v for k, v in tree.items() if k != MEMBER} or None
    member = owned and MEMBER not in other
    common = tree.keys() & other.keys()
    common.discard(MEMBER)
    if not common and member == owned and (not owned or _as_built(tree)):
        return tree
    children = {k: v for k, v in tree.items() if k != MEMBER}
    for key in common:
        rest = subtract(children[key], other[key])
        if rest is None:
            del children[key]
        else:
            children[key] = rest
    return build(member, children)


def _as_built(tree: FieldTree) -> bool:
    """Whether an owned node is the one :func:`build` would make of its children."""
    return not tree or (len(tree) > 1 and next(iter(tree)) == MEMBER and not tree[MEMBER])


def union(tree: FieldTree, other: FieldTree) -> FieldTree:
    """Every member of both trees (new keys sorted in the API server's order)."""
    member = is_owned(tree) or is_owned(other)
    children = {k: v for k, v in tree.items() if k != MEMBER}
    added = False
    for key, child in other.items():
        if key == MEMBER:
            continue
        mine = children.get(key)
        if mine is None:
            children[key] = child
            added = True
        else:
            children[key] = union(mine, child)
    if added:
        children = {k: children[k] for k in sorted(children, key=element_order)}
    result = build(member, children)
    return result if result is not None else {}


def intersect(tree: FieldTree, other: FieldTree) -> FieldTree | None:
    """The members both trees have; None when there are none."""
    member = is_owned(tree) and is_owned(other)
    children: FieldTree = {}
    for key, child in tree.items():
        if key != MEMBER and key in other:
            common = intersect(child, other[key])
            if common is not None:
                children[key] = common
    return build(member, children)


def paths(tree: FieldTree, prefix: str = "") -> list[str]:
    """The members of a tree as the API server prints field paths (``.spec.replicas``,
    ``.spec.containers[name="app"].image``), leaves of a node before its sub-trees."""
    keys = sorted((k for k in tree if k != MEMBER), key=element_order)
    out = [prefix + show(k) for k in keys if is_owned(tree[k])]
    for key in keys:
        if any(k != MEMBER for k in tree[key]):
            out.extend(
                paths({k: v for k, v in tree[key].items() if k != MEMBER}, prefix + show(key))
            )
    return out


def show(element: str) -> str:
    kind, text = element[:2], element[2:]
    if kind == "f:":
        return "." + text
    if kind == "k:":
        fields = json.loads(text)
        return "[" + ",".join(f"{k}={_go_value(fields[k])}" for k in sorted(fields)) + "]"
    if kind == "v:":
        return f"[={_go_value(json.loads(text))}]"
    return f"[{text}]"


def _go_value(value: Json) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else json.dumps(value, separators=(",", ":"))


_RANK = {"f": 1, "k": 2, "v": 3, "i": 4}


@functools.lru_cache(maxsize=8192)  # the same few hundred elements come back on every write
def element_order(element: str) -> tuple[object, ...]:
    """The sort key of a path element in the API server's canonical order: fields by name,
    then list-map keys, set values and indexes by value."""
    kind = _RANK.get(element[:1], 5)
    if kind == 1:
        return (1, element[2:])
    if kind in (2, 3):
        value = json.loads(element[2:])
        if kind == 2 and isinstance(value, dict):
            return (2, tuple((k, _value_order(value[k])) for k in sorted(value)))
        return (kind, _value_order(value))
    if kind == 4 and element[2:].isdigit():
        return (4, int(element[2:]))
    return (kind, element)


def _value_order(value: Json) -> tuple[object, ...]:
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(_value_order(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple((k, _value_order(value[k])) for k in sorted(value)))
    return (5,)


def canonical(tree: FieldTree) -> FieldTree:
    if not tree:  # a leaf: most of a tree
        return {}
    keys = sorted((k for k in tree if k != MEMBER), key=element_order)
    out: FieldTree = {MEMBER: {}} if MEMBER in tree else {}
    for key in keys:
        out[key] = canonical(tree[key])
    return out

"""Field management: ``metadata.managedFields`` and server-side apply.

This module owns who owns which field of an object, in the API server's own FieldsV1 format
(``f:metadata`` / ``f:labels`` / ``f:app``, ``k:{"name":"web"}`` for a list-map item,
``v:"x"`` for a set item, ``.`` for a node that is itself owned), one entry per manager,
operation (``Apply``/``Update``), subresource (and API version for ``Update``, as the API
server keys them). :func:`record_update` is what every non-apply write does to the entries;
:func:`apply` is server-side apply (``PATCH`` with ``application/apply-patch+yaml``): a
structured merge of the applied configuration into the live object, removal of what the
manager applied before and no longer applies, and conflict detection with the API server's
messages. The semantics are Kubernetes' structured-merge-diff ones (list-map keys, sets,
atomic lists and maps from the schema, see :mod:`orkestra.cluster.kubeschema`); the code is
hand-written because no Python library implements them (``jsonpatch``/``jsonmerge`` track no
ownership). Field sets are handled directly as FieldsV1 trees (a node ``{}`` or one with a
``"."`` key is owned), so stored entries need no conversion.

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

import functools
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApplyConflictError, BadRequestError, InvalidError
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
Tree = dict[str, Any]
APPLY, UPDATE = "Apply", "Update"
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
SERVER_METADATA = frozenset({
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
    "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
    "clusterName"})
_MISSING: Any = object()
_MEMBER = "."


# --- entries -------------------------------------------------------------------------------

class Entry(NamedTuple):
    """One ``managedFields`` entry; ``fields`` is its FieldsV1 tree (shared, not copied)."""

    manager: str
    operation: str
    api_version: str
    subresource: str
    time: str | None
    fields: Tree

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The API server's identity of an entry (appliers' ignores the API version)."""
        version = "" if self.operation == APPLY else self.api_version
        return (self.manager, self.operation, version, self.subresource)

    def printed(self) -> str:
        """The manager as conflict messages print it."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def encode(self) -> Obj:
        out: Obj = {"manager": self.manager, "operation": self.operation,
                    "apiVersion": self.api_version}
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = self.fields
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def decode_entries(managed: Any) -> list[Entry]:
    """The entries of a ``managedFields`` list; malformed entries are skipped."""
    entries = []
    for raw in managed if isinstance(managed, list) else ():
        if not isinstance(raw, dict) or not isinstance(raw.get("fieldsV1"), dict):
            continue
        operation = raw.get("operation")
        if operation not in (APPLY, UPDATE) or not isinstance(raw.get("manager"), str):
            continue
        entries.append(Entry(raw["manager"], operation, str(raw.get("apiVersion") or ""),
                             str(raw.get("subresource") or ""), raw.get("time"),
                             raw["fieldsV1"]))
    return entries


def encode_entries(entries: list[Entry]) -> list[Obj]:
    """``managedFields`` in the API server's order: appliers first, then oldest first."""
    ordered = sorted(entries, key=lambda e: (e.operation, e.time or "", e.manager,
                                             e.api_version, e.subresource))
    return [e.encode() for e in ordered]


def _basis(old: Obj | None, new: Obj, subresource: str) -> list[Entry]:
    """The entries a write starts from: those the client sent on the main resource (so
    managedFields can be edited; ``[{}]`` clears them), else the stored ones."""
    sent = (new.get("metadata") or {}).get("managedFields")
    if not subresource and isinstance(sent, list) and sent:
        if all(item == {} for item in sent):
            return []
        entries = decode_entries(sent)
        if len(entries) == len(sent):
            return entries
    return decode_entries(((old or {}).get("metadata") or {}).get("managedFields"))


# --- FieldsV1 trees ------------------------------------------------------------------------

def _owned(node: Tree) -> bool:
    return not node or _MEMBER in node


def _build(member: bool, children: Tree) -> Tree | None:
    if not children:
        return {} if member else None
    return {_MEMBER: {}, **children} if member else children


def subtract(tree: Tree, other: Tree) -> Tree | None:
    """``tree`` without the members of ``other`` (not recursive: a removed node's children
    stay); None when nothing is left."""
    member = _owned(tree) and not _owned(other)
    children: Tree = {}
    for key, child in tree.items():
        if key == _MEMBER:
            continue
        against = other.get(key)
        if against is None:
            children[key] = child
        else:
            rest = subtract(child, against)
            if rest is not None:
                children[key] = rest
    return _build(member, children)


def union(tree: Tree, other: Tree) -> Tree:
    """Every member of both trees (new keys sorted in the API server's order)."""
    member = _owned(tree) or _owned(other)
    children = {k: v for k, v in tree.items() if k != _MEMBER}
    added = False
    for key, child in other.items():
        if key == _MEMBER:
            continue
        mine = children.get(key)
        if mine is None:
            children[key] = child
            added = True
        else:
            children[key] = union(mine, child)
    if added:
        children = {k: children[k] for k in sorted(children, key=_element_order)}
    result = _build(member, children)
    return result if result is not None else {}


def intersect(tree: Tree, other: Tree) -> Tree | None:
    """The members both trees have; None when there are none."""
    member = _owned(tree) and _owned(other)
    children: Tree = {}
    for key, child in tree.items():
        if key != _MEMBER and key in other:
            common = intersect(child, other[key])
            if common is not None:
                children[key] = common
    return _build(member, children)


def paths(tree: Tree, prefix: str = "") -> list[str]:
    """The members of a tree as the API server prints field paths (``.spec.replicas``,
    ``.spec.containers[name="app"].image``), leaves of a node before its sub-trees."""
    keys = sorted((k for k in tree if k != _MEMBER), key=_element_order)
    out = [prefix + _show(k) for k in keys if _owned(tree[k])]
    for key in keys:
        if any(k != _MEMBER for k in tree[key]):
            out.extend(paths({k: v for k, v in tree[key].items() if k != _MEMBER},
                             prefix + _show(key)))
    return out


def _show(element: str) -> str:
    kind, text = element[:2], element[2:]
    if kind == "f:":
        return "." + text
    if kind == "k:":
        fields = json.loads(text)
        return "[" + ",".join(f"{k}={_go_value(fields[k])}" for k in sorted(fields)) + "]"
    if kind == "v:":
        return f"[={_go_value(json.loads(text))}]"
    return f"[{text}]"


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else json.dumps(value, separators=(",", ":"))


_RANK = {"f": 1, "k": 2, "v": 3, "i": 4}


@functools.lru_cache(maxsize=8192)  # the same few hundred elements come back on every write
def _element_order(element: str) -> tuple[Any, ...]:
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


def _value_order(value: Any) -> tuple[Any, ...]:
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


def _canonical(tree: Tree) -> Tree:
    if not tree:  # a leaf: most of a tree
        return {}
    keys = sorted((k for k in tree if k != _MEMBER), key=_element_order)
    out: Tree = {_MEMBER: {}} if _MEMBER in tree else {}
    for key in keys:
        out[key] = _canonical(tree[key])
    return out


# --- walking values with their schema ------------------------------------------------------

def _granular(node: SchemaNode, value: Any) -> str | None:
    """``map``/``list`` when a value is owned field by field or item by item, else None."""
    if isinstance(value, dict):
        return "map" if node.shape != SCALAR and node.shape != LIST and not node.map_atomic \
            else None
    if isinstance(value, list) and node.shape == LIST and node.list_type != LIST_ATOMIC:
        return "list"
    return None


def _item_element(item: Any, node: SchemaNode) -> str | None:
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


def _index(items: list[Any], node: SchemaNode) -> dict[str, Any] | None:
    """Items by path element; None when one has no key or two have the same."""
    out: dict[str, Any] = {}
    for item in items:
        element = _item_element(item, node)
        if element is None or element in out:
            return None
        out[element] = item
    return out


def _same(a: Any, b: Any) -> bool:
    return a == b and (type(a) is bool) == (type(b) is bool)


def _is_empty(value: Any) -> bool:
    return value is _MISSING or value is None or (isinstance(value, dict | list) and not value)


# --- what changed between two objects ------------------------------------------------------

Change = tuple[Tree | None, Tree | None]  # (added or modified, removed)


def _compare(old: Any, new: Any, node: SchemaNode, item: bool, loose: bool) -> Change:
    """The fields ``new`` added or modified and those it removed, under one value.

    ``item``: the value is a list item (always owned as a node). ``loose``: inside a list item
    only one side has, where every new map or list is owned as a node; elsewhere a typed
    (built-in) struct or list is not, because the API server compares against Go zero
    values in which those already exist."""
    if old is _MISSING:
        return _added(new, node, item, loose), None
    kind_old = _granular(node, old)
    kind_new = _granular(node, new) if new is not _MISSING else None
    kind = kind_new if old is _MISSING else kind_old if new is _MISSING else \
        (kind_old if kind_old == kind_new else None)
    if kind is None or (_is_empty(old) and _is_empty(new)):
        if old is _MISSING:
            return {}, None
        if new is _MISSING:
            return None, {}
        return (None, None) if _same(old, new) else ({}, None)
    if kind == "map":
        gained, lost = _compare_map(old, new, node, loose)
    else:
        indexed = _compare_list(old, new, node)
        if indexed is None:  # items without keys or with duplicate keys: one value
            return (None, None) if _same(old, new) else \
                ({}, None) if new is not _MISSING else (None, {})
        gained, lost = indexed
    owned_node = item or loose or not node.typed or not (node.struct or kind == "list")
    if owned_node and old is _MISSING:
        return _build(True, gained), _build(False, lost)
    if owned_node and new is _MISSING:
        return _build(False, gained), _build(True, lost)
    return _build(False, gained), _build(False, lost)


def _added(new: Any, node: SchemaNode, item: bool, loose: bool) -> Tree | None:
    """:func:`_compare` when there was nothing before (every create): only gains."""
    kind = _granular(node, new)
    if kind is None or _is_empty(new):
        return {}
    gained: Tree = {}
    if kind == "map":
        for key, value in new.items():
            child = _added(value, node.field(key), False, loose)
            if child is not None:
                gained["f:" + key] = child
    else:
        index = _index(new, node)
        if index is None:  # items without keys or with duplicate keys: one value
            return {}
        items = node.items()
        for element, value in index.items():
            child = _added(value, items, True, True)
            if child is not None:
                gained[element] = child
    owned_node = item or loose or not node.typed or not (node.struct or kind == "list")
    return _build(owned_node, gained)


def _compare_map(old: Any, new: Any, node: SchemaNode, loose: bool) -> tuple[Tree, Tree]:
    gained: Tree = {}
    lost: Tree = {}
    old_map = old if old is not _MISSING else {}
    new_map = new if new is not _MISSING else {}
    for key in _keys(old_map, new_map):
        before, after = old_map.get(key, _MISSING), new_map.get(key, _MISSING)
        if before is not _MISSING and after is not _MISSING and before == after \
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
    old_items = _index(old, node) if old is not _MISSING else {}
    new_items = _index(new, node) if new is not _MISSING else {}
    if old_items is None or new_items is None:
        return None
    items = node.items()
    gained: Tree = {}
    lost: Tree = {}
    for element in _keys(old_items, new_items):
        before = old_items.get(element, _MISSING)
        after = new_items.get(element, _MISSING)
        if before is not _MISSING and after is not _MISSING and before == after:
            continue
        loose = before is _MISSING or after is _MISSING
        g, r = _compare(before, after, items, True, loose)
        if g is not None:
            gained[element] = g
        if r is not None:
            lost[element] = r
    return gained, lost


def _ignored(key: str, subresource: str, has_status: bool) -> bool:
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
        if _ignored(key, subresource, has_status):
            continue
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if key == "metadata":
            before, after = _visible_metadata(before), _visible_metadata(after)
        if (before is _MISSING and after is _MISSING) or before == after:
            continue
        g, r = _compare(before, after, node.field(key), False, False)
        if key == "metadata":  # the metadata node itself is never owned
            g = _strip_member(g)
            r = _strip_member(r)
        if g is not None:
            gained["f:" + key] = g
        if r is not None:
            lost["f:" + key] = r
    return (_canonical(gained) if gained else None), (lost or None)


def _visible_metadata(meta: Any) -> Any:
    if not isinstance(meta, dict):
        return _MISSING
    visible = {k: v for k, v in meta.items() if k not in SERVER_METADATA}
    return visible if visible else _MISSING


def _strip_member(tree: Tree | None) -> Tree | None:
    if tree is None:
        return None
    return _build(False, {k: v for k, v in tree.items() if k != _MEMBER})


# --- non-apply writes ----------------------------------------------------------------------

def record_update(old: Obj | None, new: Obj, *, manager: str, api_version: str,
                  subresource: str, now: str, schema: SchemaLike,
                  has_status: bool = True) -> list[Obj]:
    """The ``managedFields`` after a create (``old`` None), update or non-apply patch.

    ``manager`` becomes owner of the fields the write added or changed, every other manager
    loses those and the ones it removed; empty entries disappear; at most
    :data:`MAX_UPDATE_MANAGERS` ``Update`` entries are kept (older ones merge into
    ``ancient-changes``). ``has_status``: the kind has a status subresource. The result may
    share FieldsV1 sub-trees with ``old``: treat it as read-only."""
    entries = _basis(old, new, subresource)
    gained, lost = diff(old, new, schema, subresource=subresource, has_status=has_status)
    if gained is None and lost is None:
        return encode_entries(entries)
    me = Entry(manager, UPDATE, api_version, subresource, now, {})
    out: list[Entry] = []
    mine: Tree | None = None
    for entry in entries:
        rest: Tree | None = entry.fields
        for change in (gained, lost):
            if change is not None and rest is not None:
                rest = subtract(rest, change)
        if entry.key == me.key:
            mine = rest
            me = me._replace(time=entry.time)
        elif rest is not None:
            out.append(entry if rest is entry.fields else entry._replace(fields=rest))
    if gained is not None:
        mine = union(mine, gained) if mine is not None else gained
        me = me._replace(time=now)
    if mine is not None:
        out.append(me._replace(fields=mine))
    return encode_entries(_cap_updates(out))


def _cap_updates(entries: list[Entry]) -> list[Entry]:
    """Merge the oldest ``Update`` entries into ``ancient-changes`` (one per API version)
    until at most :data:`MAX_UPDATE_MANAGERS` are left."""
    updates = sorted((e for e in entries if e.operation == UPDATE), key=lambda e: e.time or "")
    excess = len(updates) - MAX_UPDATE_MANAGERS
    if excess <= 0:
        return entries
    dropped: set[int] = set()
    firsts: dict[str, Entry] = {}
    buckets: dict[str, Entry] = {}
    for entry in updates:
        if excess <= 0:
            break
        version = entry.api_version
        base = buckets.get(version) or firsts.get(version)
        if base is None:
            firsts[version] = entry
            continue
        dropped.update((id(base), id(entry)))
        buckets[version] = Entry(ANCIENT_CHANGES, UPDATE, version, "", entry.time,
                                 union(base.fields, entry.fields))
        excess -= 1
    return [e for e in entries if id(e) not in dropped] + list(buckets.values())


# --- server-side apply ---------------------------------------------------------------------

def apply(current: Obj | None, config: Obj, *, manager: str, force: bool, api_version: str,
          subresource: str, now: str, schema: SchemaLike, has_status: bool = True) -> Obj:
    """Server-side apply of ``config`` by ``manager``; returns the new object with its
    ``metadata.managedFields`` (a new object when ``current`` is None: the caller creates it).

    Raises :class:`ApplyConflictError` when the config sets a field another manager owns to
    another value (unless ``force``, which takes the field over), and
    :class:`BadRequestError`/:class:`InvalidError` for a config the API server rejects."""
    node = as_node(schema)
    _check_config(config, current, api_version, node)
    live: Obj = current if current is not None else {}
    entries = decode_entries((live.get("metadata") or {}).get("managedFields"))
    applied = Entry(manager, APPLY, api_version, subresource, None, {})
    previous = next((e for e in entries if e.key == applied.key), None)
    visible = _visible_config(config, subresource, has_status)
    applied_set = _fieldset_object(visible, node)
    merged = _merge(live, visible, node)
    others = [e for e in entries if e.key != applied.key]
    owners = [e.fields for e in others] + ([applied_set] if applied_set else [])
    if previous is not None:
        merged = _prune_root(merged, node, previous.fields, _union_all(owners))
    gained, lost = diff(live, merged, node, subresource=subresource, has_status=has_status)
    out = _settle(others, gained, lost, force)
    changed = gained is not None or lost is not None
    if applied_set:
        time = now if changed or previous is None else previous.time
        out.append(applied._replace(api_version=api_version, time=time, fields=applied_set))
    result = dict(merged)
    metadata = dict(result.get("metadata") or {})
    managed = encode_entries(_cap_updates(out))
    if managed:
        metadata["managedFields"] = managed
    else:
        metadata.pop("managedFields", None)
    result["metadata"] = metadata
    return clone(result)


def _check_config(config: Any, current: Obj | None, api_version: str,
                  node: SchemaNode) -> None:
    if not isinstance(config, dict):
        raise BadRequestError("error decoding YAML: the applied configuration must be an "
                              "object")
    version, kind = config.get("apiVersion"), config.get("kind")
    if not version or not kind:
        raise BadRequestError("apiVersion and kind must be set in an applied configuration")
    if version != api_version:
        raise BadRequestError("Incorrect version specified in apply patch. Specified patch "
                              f"version: {version}, expected: {api_version}")
    if current is not None and current.get("kind") not in (None, kind):
        raise BadRequestError(f"the kind of the applied configuration ({kind}) does not "
                              f"match the object's ({current.get('kind')})")
    if (config.get("metadata") or {}).get("managedFields") is not None:
        raise BadRequestError("metadata.managedFields must be nil")
    problem = _find_invalid(config, node, "")
    if problem:
        group, _, ver = api_version.rpartition("/")
        raise InvalidError(f"failed to create typed patch object ({group}/{ver}, "
                           f"Kind={kind}): {problem}")


def _find_invalid(value: Any, node: SchemaNode, path: str) -> str | None:
    """Keyless or duplicated list-map items, worded as structured-merge-diff does."""
    kind = _granular(node, value)
    if kind == "map":
        for key, child in value.items():
            problem = _find_invalid(child, node.field(key), f"{path}.{key}")
            if problem:
                return problem
    elif kind == "list":
        seen: set[str] = set()
        for i, item in enumerate(value):
            element = _item_element(item, node)
            if element is None:
                missing = next((k for k in node.map_keys
                                if not isinstance(item, dict) or k not in item), "")
                return (f"{path}: element {i}: associative list with keys has an element "
                        f'that omits key field "{missing}" (and doesn\'t have default value)')
            if element in seen:
                return f"{path}: duplicate entries for key {_show(element)}"
            seen.add(element)
            problem = _find_invalid(item, node.items(), f"{path}[{i}]")
            if problem:
                return problem
    return None


def _visible_config(config: Obj, subresource: str, has_status: bool) -> Obj:
    """What of a config is merged: not ignored fields, nor server-set metadata (a
    resourceVersion in it is a precondition for the caller to check)."""
    visible = {k: v for k, v in config.items()
               if k in ("apiVersion", "kind") or not _ignored(k, subresource, has_status)}
    metadata = visible.get("metadata")
    if isinstance(metadata, dict):
        visible["metadata"] = {k: v for k, v in metadata.items()
                               if k in ("name", "namespace") or k not in SERVER_METADATA}
    return visible


def _fieldset_object(config: Obj, node: SchemaNode) -> Tree:
    """The fields an applied configuration sets (what its manager will own)."""
    out: Tree = {}
    for key, value in config.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in SERVER_METADATA}
            sub = _fieldset_map(value, node.field(key)) if value else None
        else:
            sub = _fieldset(value, node.field(key), declared=node.declares(key))
        if sub is not None:
            out["f:" + key] = sub
    return _canonical(out)


def _fieldset(value: Any, node: SchemaNode, *, declared: bool) -> Tree | None:
    kind = _granular(node, value)
    if kind is None or (kind == "map" and not value):
        return {}
    if kind == "list":
        items = node.items()
        elements: Tree = {}
        for item in value:
            sub = _fieldset(item, items, declared=True)
            elements[_item_element(item, node) or ""] = _build(True, sub or {})
        return elements or None
    children = _fieldset_map(value, node)
    return _build(not declared, children or {})


def _fieldset_map(value: Obj, node: SchemaNode) -> Tree:
    out: Tree = {}
    for key, child in value.items():
        sub = _fieldset(child, node.field(key), declared=node.declares(key))
        if sub is not None:
            out["f:" + key] = sub
    return out


def _clean(value: Any) -> Any:
    """A copy of an applied value without its nulls (a null unsets a field)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _merge(live: Any, config: Any, node: SchemaNode) -> Any:
    """Structured merge: the config wins, maps and list-maps/sets merge, atomics replace.
    Live items keep their order, new ones follow in the config's order."""
    kind = _granular(node, config)
    if kind == "map" and isinstance(live, dict) and _granular(node, live) == "map":
        out = dict(live)
        for key, value in config.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = _merge(live.get(key, _MISSING), value, node.field(key))
        return out
    if kind == "list" and isinstance(live, list) and _granular(node, live) == "list":
        live_items, config_items = _index(live, node), _index(config, node)
        if live_items is not None and config_items is not None:
            items = node.items()
            merged = [_merge(item, config_items[e], items) if e in config_items else item
                      for e, item in live_items.items()]
            merged += [_clean(item) for e, item in config_items.items() if e not in live_items]
            return merged
    return _clean(config)


def _union_all(trees: list[Tree]) -> Tree:
    total: Tree = {}
    for tree in trees:
        total = union(total, tree) if total else tree
    return total


def _prune_root(merged: Obj, node: SchemaNode, last: Tree, owned: Tree) -> Obj:
    pruned = _prune(merged, node, last, owned, False, False)
    return pruned if isinstance(pruned, dict) else {}


def _prune(value: Any, node: SchemaNode, last: Tree, owned: Tree, below_gone: bool,
           below_last: bool) -> Any:
    """Remove what the applier owned last time and nobody owns now (with what is under it),
    keeping what other managers own: structured-merge-diff's prune."""
    kind = _granular(node, value)
    if kind is None:
        return value
    if kind == "map":
        children = [(key, "f:" + key, child, node.field(key), node.declares(key))
                    for key, child in value.items()]
    else:
        items = node.items()
        indexed = _index(value, node)
        if indexed is None:
            return value
        children = [(element, element, child, items, False)
                    for element, child in indexed.items()]
    kept: list[tuple[str, Any]] = []
    removed = False
    for name, element, child, child_node, declared in children:
        in_last_tree, in_owned_tree = last.get(element), owned.get(element)
        in_last = in_last_tree is not None and (declared or _owned(in_last_tree))
        in_owned = in_owned_tree is not None and (declared or _owned(in_owned_tree))
        gone = (in_last or below_last) and not in_owned
        if in_last and (gone or below_gone):
            removed = True
            continue
        if in_last_tree is not None:
            new_child = _prune(child, child_node, in_last_tree, in_owned_tree or {},
                               below_gone or gone, below_last or in_last)
            if new_child is _MISSING:
                removed = True
                continue
            removed = removed or new_child is not child
            child = new_child
        kept.append((name, child))
    if not removed:
        return value
    if not kept:
        return _MISSING
    return dict(kept) if kind == "map" else [child for _, child in kept]


def _settle(others: list[Entry], gained: Tree | None, lost: Tree | None,
            force: bool) -> list[Entry]:
    """Other managers lose what the apply changed; without ``force``, owning a field the
    apply sets to another value is a conflict."""
    conflicts: list[tuple[Entry, Tree]] = []
    if gained is not None:
        for entry in others:
            common = intersect(entry.fields, gained)
            if common is not None:
                conflicts.append((entry, common))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    out = []
    for entry in others:
        rest: Tree | None = entry.fields
        for change in (gained, lost):
            if change is not None and rest is not None:
                rest = subtract(rest, change)
        if rest is not None:
            out.append(entry if rest is entry.fields else entry._replace(fields=rest))
    return out


def _conflict_error(conflicts: list[tuple[Entry, Tree]]) -> ApplyConflictError:
    pairs = [(entry.printed(), path) for entry, tree in conflicts for path in paths(tree)]
    if len(pairs) == 1:
        manager, path = pairs[0]
        message = f"Apply failed with 1 conflict: conflict with {manager}: {path}"
    else:
        lines = []
        for manager in sorted({m for m, _ in pairs}):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {p}" for m, p in pairs if m == manager)
        message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(lines)
    return ApplyConflictError(message, pairs)

"""Server-side apply: ``PATCH`` with ``application/apply-patch+yaml``.

This module owns :func:`apply`: checking an applied configuration as the API server does,
the fields it sets (what its manager will own), the structured merge of it into the live
object (the config wins, maps and list-maps/sets merge, atomics replace), the removal of
what the manager applied before and no longer applies (structured-merge-diff's prune), and
conflicts with other managers, with the API server's messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApplyConflictError, BadRequestError, InvalidError
from orkestra.cluster.fieldmanager.compare import (
    MISSING,
    SERVER_METADATA,
    diff,
    granular,
    ignored,
    index_items,
    item_element,
)
from orkestra.cluster.fieldmanager.entries import APPLY, Entry, decode_entries, encode_entries
from orkestra.cluster.fieldmanager.trees import (
    FieldTree,
    build,
    canonical,
    intersect,
    is_owned,
    member_node,
    paths,
    show,
    subtract,
    union,
)
from orkestra.cluster.fieldmanager.updates import cap_updates
from orkestra.cluster.kubeschema import SchemaLike, SchemaNode, as_node
from orkestra.kubeobjects import JsonDict, KubeObject


def apply(
    current: KubeObject | None,
    config: Mapping[str, object],
    *,
    manager: str,
    force: bool,
    api_version: str,
    subresource: str,
    now: str,
    schema: SchemaLike,
    has_status: bool = True,
) -> KubeObject:
    """Server-side apply of ``config`` by ``manager``; returns the new object with its
    ``metadata.managedFields`` (a new object when ``current`` is None: the caller creates it).

    Raises :class:`ApplyConflictError` when the config sets a field another manager owns to
    another value (unless ``force``, which takes the field over), and
    :class:`BadRequestError`/:class:`InvalidError` for a config the API server rejects."""
    node = as_node(schema)
    _check_config(config, current, api_version, node)
    live: KubeObject = current if current is not None else {}
    entries = decode_entries((live.get("metadata") or {}).get("managedFields"))
    applied = Entry(manager, APPLY, api_version, subresource, None, {})
    previous = next((e for e in entries if e.key == applied.key), None)
    visible = _visible_config(config, subresource, has_status)
    applied_set = _fieldset_object(visible, node)
    merged: JsonDict = _merge(live, visible, node)
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
    result = cast(KubeObject, dict(merged))  # the live object with the config merged in
    metadata = (result.get("metadata") or {}).copy()
    managed = encode_entries(cap_updates(out))
    if managed:
        metadata["managedFields"] = managed
    else:
        metadata.pop("managedFields", None)
    result["metadata"] = metadata
    return clone(result)


def _check_config(
    config: object, current: KubeObject | None, api_version: str, node: SchemaNode
) -> None:
    if not isinstance(config, dict):
        raise BadRequestError("error decoding YAML: the applied configuration must be an object")
    version, kind = config.get("apiVersion"), config.get("kind")
    if not version or not kind:
        raise BadRequestError("apiVersion and kind must be set in an applied configuration")
    if version != api_version:
        raise BadRequestError(
            "Incorrect version specified in apply patch. Specified patch "
            f"version: {version}, expected: {api_version}"
        )
    if current is not None and current.get("kind") not in (None, kind):
        raise BadRequestError(
            f"the kind of the applied configuration ({kind}) does not "
            f"match the object's ({current.get('kind')})"
        )
    if (config.get("metadata") or {}).get("managedFields") is not None:
        raise BadRequestError("metadata.managedFields must be nil")
    problem = _find_invalid(config, node, "")
    if problem:
        group, _, ver = api_version.rpartition("/")
        raise InvalidError(
            f"failed to create typed patch object ({group}/{ver}, Kind={kind}): {problem}"
        )


def _find_invalid(value: Any, node: SchemaNode, path: str) -> str | None:
    """Keyless or duplicated list-map items, worded as structured-merge-diff does."""
    kind = granular(node, value)
    if kind == "map":
        for key, child in value.items():
            problem = _find_invalid(child, node.field(key), f"{path}.{key}")
            if problem:
                return problem
    elif kind == "list":
        seen: set[str] = set()
        for i, item in enumerate(value):
            element = item_element(item, node)
            if element is None:
                missing = next(
                    (k for k in node.map_keys if not isinstance(item, dict) or k not in item), ""
                )
                return (
                    f"{path}: element {i}: associative list with keys has an element "
                    f'that omits key field "{missing}" (and doesn\'t have default value)'
                )
            if element in seen:
                return f"{path}: duplicate entries for key {show(element)}"
            seen.add(element)
            problem = _find_invalid(item, node.items(), f"{path}[{i}]")
            if problem:
                return problem
    return None


def _visible_config(
    config: Mapping[str, object], subresource: str, has_status: bool
) -> dict[str, object]:
    """What of a config is merged: not ignored fields, nor server-set metadata (a
    resourceVersion in it is a precondition for the caller to check)."""
    visible = {
        k: v
        for k, v in config.items()
        if k in ("apiVersion", "kind") or not ignored(k, subresource, has_status)
    }
    metadata = visible.get("metadata")
    if isinstance(metadata, dict):
        visible["metadata"] = {
            k: v
            for k, v in metadata.items()
            if k in ("name", "namespace") or k not in SERVER_METADATA
        }
    return visible


def _fieldset_object(config: Mapping[str, object], node: SchemaNode) -> FieldTree:
    """The fields an applied configuration sets (what its manager will own)."""
    out: FieldTree = {}
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
    return canonical(out)


def _fieldset(value: Any, node: SchemaNode, *, declared: bool) -> FieldTree | None:
    kind = granular(node, value)
    if kind is None or (kind == "map" and not value):
        return {}
    if kind == "list":
        items = node.items()
        elements: FieldTree = {}
        for item in value:
            sub = _fieldset(item, items, declared=True)
            elements[item_element(item, node) or ""] = member_node(sub or {})
        return elements or None
    children = _fieldset_map(value, node)
    return build(not declared, children or {})


def _fieldset_map(value: Mapping[str, object], node: SchemaNode) -> FieldTree:
    out: FieldTree = {}
    for key, child in value.items():
        sub = _fieldset(child, node.field(key), declared=node.declares(key))
        if sub is not None:
            out["f:" + key] = sub
    return out


def _clean(value: object) -> object:
    """A copy of an applied value without its nulls (a null unsets a field)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _merge(live: Any, config: Any, node: SchemaNode) -> Any:
    """Structured merge: the config wins, maps and list-maps/sets merge, atomics replace.
    Live items keep their order, new ones follow in the config's order."""
    kind = granular(node, config)
    if kind == "map" and isinstance(live, dict) and granular(node, live) == "map":
        out = dict(live)
        for key, value in config.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = _merge(live.get(key, MISSING), value, node.field(key))
        return out
    if kind == "list" and isinstance(live, list) and granular(node, live) == "list":
        live_items, config_items = index_items(live, node), index_items(config, node)
        if live_items is not None and config_items is not None:
            items = node.items()
            merged = [
                _merge(item, config_items[e], items) if e in config_items else item
                for e, item in live_items.items()
            ]
            merged += [_clean(item) for e, item in config_items.items() if e not in live_items]
            return merged
    return _clean(config)


def _union_all(trees: list[FieldTree]) -> FieldTree:
    total: FieldTree = {}
    for tree in trees:
        total = union(total, tree) if total else tree
    return total


def _prune_root(merged: JsonDict, node: SchemaNode, last: FieldTree, owned: FieldTree) -> JsonDict:
    pruned = _prune(merged, node, last, owned, False, False)
    return pruned if isinstance(pruned, dict) else {}


def _prune(
    value: Any,
    node: SchemaNode,
    last: FieldTree,
    owned: FieldTree,
    below_gone: bool,
    below_last: bool,
) -> Any:
    """Remove what the applier owned last time and nobody owns now (with what is under it),
    keeping what other managers own: structured-merge-diff's prune."""
    kind = granular(node, value)
    if kind is None:
        return value
    if kind == "map":
        children = [
            (key, "f:" + key, child, node.field(key), node.declares(key))
            for key, child in value.items()
        ]
    else:
        items = node.items()
        indexed = index_items(value, node)
        if indexed is None:
            return value
        children = [(element, element, child, items, False) for element, child in indexed.items()]
    kept: list[tuple[str, object]] = []
    removed = False
    for name, element, child, child_node, declared in children:
        in_last_tree, in_owned_tree = last.get(element), owned.get(element)
        in_last = in_last_tree is not None and (declared or is_owned(in_last_tree))
        in_owned = in_owned_tree is not None and (declared or is_owned(in_owned_tree))
        gone = (in_last or below_last) and not in_owned
        if in_last and (gone or below_gone):
            removed = True
            continue
        if in_last_tree is not None:
            new_child = _prune(
                child,
                child_node,
                in_last_tree,
                in_owned_tree or {},
                below_gone or gone,
                below_last or in_last,
            )
            if new_child is MISSING:
                removed = True
                continue
            removed = removed or new_child is not child
            child = new_child
        kept.append((name, child))
    if not removed:
        return value
    if not kept:
        return MISSING
    return dict(kept) if kind == "map" else [child for _, child in kept]


def _settle(
    others: list[Entry], gained: FieldTree | None, lost: FieldTree | None, force: bool
) -> list[Entry]:
    """Other managers lose what the apply changed; without ``force``, owning a field the
    apply sets to another value is a conflict."""
    conflicts: list[tuple[Entry, FieldTree]] = []
    if gained is not None:
        for entry in others:
            common = intersect(entry.fields, gained)
            if common is not None:
                conflicts.append((entry, common))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    out = []
    for entry in others:
        rest: FieldTree | None = entry.fields
        for change in (gained, lost):
            if change is not None and rest is not None:
                rest = subtract(rest, change)
        if rest is not None:
            out.append(entry if rest is entry.fields else entry.with_fields(rest))
    return out


def _conflict_error(conflicts: list[tuple[Entry, FieldTree]]) -> ApplyConflictError:
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

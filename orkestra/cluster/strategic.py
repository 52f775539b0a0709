"""Strategic merge patch, as ``kubectl apply`` and ``kubectl patch --type strategic`` send it.

This module owns applying a strategic merge patch to a built-in object: maps merge
recursively and ``null`` deletes; a list follows its field's ``x-kubernetes-patch-strategy``
(``merge`` lists of maps merge item by item on ``x-kubernetes-patch-merge-key``, ``merge``
lists of scalars are unions, other lists are replaced); the directives ``$patch:
replace|delete`` (on maps and list items), ``$deleteFromPrimitiveList/<field>``,
``$setElementOrder/<field>`` and ``$retainKeys`` do what the API server does, with its error
messages. Unlike the API server (which relies on decoding into Go structs to drop leftovers),
no directive is ever stored: a value the original lacks is cleaned of directives and nulls
too. Hand-written because ``jsonpatch``/``jsonmerge`` know neither the directives nor the
per-field strategies, which live in the schemas :mod:`orkestra.cluster.kubeschema` vendors.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Final

from orkestra.cluster.data import clone
from orkestra.cluster.errors import BadRequestError, InvalidError
from orkestra.cluster.kubeschema import SchemaLike, SchemaNode, as_node
from orkestra.kubeobjects import Json, JsonDict

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


class _Drop(enum.Enum):
    """A fresh value that must not be stored at all (``{"$patch": "delete"}``)."""

    DROP = enum.auto()


_DROP: Final = _Drop.DROP


def strategic_merge_patch(
    original: Mapping[str, object], patch: Json, schema: SchemaLike
) -> JsonDict:
    """The object ``original`` becomes once ``patch`` is applied; neither is mutated.

    ``schema`` is the root schema of the kind (a :class:`SchemaNode`, a vendored definition or
    None). Raises :class:`BadRequestError` for a malformed patch and :class:`InvalidError`
    where the API server answers 422."""
    if not isinstance(patch, dict):
        raise BadRequestError(
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
            if isinstance(patch, list)
            else "invalid JSON document"
        )
    result = _merge_map(
        clone(original) if isinstance(original, dict) else {}, patch, as_node(schema)
    )
    return result if isinstance(result, dict) else {}


# --- maps ----------------------------------------------------------------------------------


def _merge_map(original: JsonDict, patch: JsonDict, node: SchemaNode) -> JsonDict:
    """Merge ``patch`` into ``original`` (owned by the caller, changed in place)."""
    if PATCH in patch:
        return _map_directive(patch, node)
    if RETAIN_KEYS in patch:
        _retain_keys(original, patch)
    orders = {k[len(SET_ORDER) :]: v for k, v in patch.items() if k.startswith(SET_ORDER)}
    deletions = {k[len(DELETE_FROM) :]: v for k, v in patch.items() if k.startswith(DELETE_FROM)}
    for key, value in patch.items():
        if key != RETAIN_KEYS and not key.startswith((SET_ORDER, DELETE_FROM)):
            _merge_field(original, key, value, node.field(key), orders)
    for key, order in orders.items():
        _reorder_only(original, key, order, node.field(key))
    for key, values in deletions.items():
        current = original.get(key)
        if isinstance(current, list) and isinstance(values, list):
            original[key] = [item for item in current if item not in values]
    return original


def _map_directive(patch: JsonDict, node: SchemaNode) -> JsonDict:
    directive = patch[PATCH]
    if directive == "replace":
        return _fresh_map(patch, node, True)
    if directive == "delete":
        return {}
    raise BadRequestError(f"unknown patch type: {go_str(directive)} in map: {go_str(patch)}")


def _retain_keys(original: JsonDict, patch: JsonDict) -> None:
    keep = patch[RETAIN_KEYS]
    if not isinstance(keep, list):
        raise BadRequestError("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is None or key == RETAIN_KEYS or key.startswith((DELETE_FROM, SET_ORDER)):
            continue
        if key not in keep:
            raise BadRequestError("invalid patch format of retainKeys")
    for key in [k for k in original if k not in keep]:
        del original[key]


def _merge_field(
    original: JsonDict, key: str, value: Json, node: SchemaNode, orders: JsonDict
) -> None:
    if value is None:
        original.pop(key, None)
        return
    current = original.get(key)
    if isinstance(value, list) and (current is None or isinstance(current, list)):
        order = orders.pop(key, None)
        checked = _check_order(value, order, node) if order is not None else None
        merged = _merge_list(current, value, node, key)
        original[key] = (
            _normalize(merged, checked, current or [], node.merge_key)
            if checked is not None
            else merged
        )
    elif isinstance(value, dict) and isinstance(current, dict) and "replace" not in node.strategies:
        original[key] = _merge_map(current, value, node)
    else:
        fresh = _fresh(value, node)
        if fresh is _DROP:
            original.pop(key, None)
        else:
            original[key] = fresh


def _reorder_only(original: JsonDict, key: str, order: Json, node: SchemaNode) -> None:
    """``$setElementOrder/<key>`` without a ``<key>`` list in the patch: reorder the original."""
    if not isinstance(order, list):
        raise BadRequestError(f"expected a []interface {{}}, but received a {go_type(order)}")
    current = original.get(key)
    if isinstance(current, list):
        _check_order([], order, node)
        original[key] = _normalize(current, order, current, node.merge_key)


# --- lists ---------------------------------------------------------------------------------


def _merge_list(
    current: list[Json] | None, patch: list[Json], node: SchemaNode, name: str
) -> list[Json]:
    if current is None or not node.semantics.merge:
        return _fresh_list(patch, node)
    if not current and not patch:
        return current
    kind = _element_kind(current, patch)
    if kind == "list":
        raise InvalidError("lists of lists are not supported")
    if kind != "map":
        merged = _unique(current + patch)
        return _normalize(merged, patch, current, None)
    key = node.merge_key
    if key is None:
        raise BadRequestError(f"cannot merge lists without merge key for {name}")
    current, plain = _special_elements(current, patch, key, node)
    merged = _merge_items(current, plain, key, node.items())
    return _normalize(merged, plain, current, key)


def _element_kind(current: list[Json], patch: list[Json]) -> str:
    kinds = {_kind(item) for item in current + patch}
    if len(kinds) > 1:
        raise BadRequestError(f"list element types are not identical: {go_str([current, patch])}")
    return kinds.pop() if kinds else "scalar"


def _kind(value: Json) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _special_elements(
    current: list[Json], patch: list[Json], key: str, node: SchemaNode
) -> tuple[list[Json], list[JsonDict]]:
    """Apply ``$patch`` list elements: deletions by merge key, or a whole-list replace."""
    plain: list[JsonDict] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):  # never: a merged list of maps holds only maps
            continue
        directive = item.get(PATCH)
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if key not in item:
                raise BadRequestError(_no_merge_key(item, key))
            current = [c for c in current if not (isinstance(c, dict) and c.get(key) == item[key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise BadRequestError("merging lists cannot yet be specified in the patch")
        else:
            raise BadRequestError(f"unknown patch type: {go_str(directive)} in map: {go_str(item)}")
    if replace:
        return _fresh_list(plain, node), []
    return current, plain


def _merge_items(
    current: list[Json], patch: list[JsonDict], key: str, items: SchemaNode
) -> list[Json]:
    merged = list(current)
    for item in patch:
        if key not in item:
            raise BadRequestError(_no_merge_key(item, key))
        for i, existing in enumerate(merged):
            if isinstance(existing, dict) and key in existing and existing[key] == item[key]:
                merged[i] = _merge_map(existing, item, items)
                break
        else:
            merged.append(_fresh_map(item, items, True))
    return merged


def _unique(values: list[Json]) -> list[Json]:
    seen: list[Json] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _identity(item: Json, key: str | None) -> object:
    value = item.get(key) if key is not None and isinstance(item, dict) else item
    if isinstance(value, dict | list):
        return repr(value)
    return (type(value) is bool, value)


def _normalize(
    merged: list[Json], patch_order: Sequence[Json], server_order: Sequence[Json], key: str | None
) -> list[Json]:
    """The API server's ordering: items named in the patch (or ``$setElementOrder``) in that
    order, the others in their original order, the two interleaved by original position."""
    wanted = _positions(patch_order, key)
    server = _positions(server_order, key)
    in_patch = [m for m in merged if _identity(m, key) in wanted]
    others = [m for m in merged if _identity(m, key) not in wanted]
    in_patch.sort(key=lambda m: wanted[_identity(m, key)])
    others.sort(key=lambda m: server.get(_identity(m, key), len(server)))
    out: list[Json] = []
    i = j = 0
    while i < len(in_patch) or j < len(others):
        if j >= len(others):
            out.append(in_patch[i])
            i += 1
        elif i >= len(in_patch):
            out.append(others[j])
            j += 1
        else:
            left = server.get(_identity(in_patch[i], key))
            right = server.get(_identity(others[j], key))
            if left is not None and right is not None and right < left:
                out.append(others[j])
                j += 1
            else:
                out.append(in_patch[i])
                i += 1
    return out


def _positions(items: Sequence[Json], key: str | None) -> dict[object, int]:
    positions: dict[object, int] = {}
    for index, item in enumerate(items):
        positions.setdefault(_identity(item, key), index)
    return positions


def _check_order(patch: list[Json], order: Json, node: SchemaNode) -> list[Json]:
    """``$setElementOrder`` must be a list naming every patch item in the patch's order;
    returns it."""
    if not isinstance(order, list):
        raise BadRequestError(f"expected a []interface {{}}, but received a {go_type(order)}")
    key = node.merge_key if node.semantics.merge else None
    if key is not None:
        for item in order:
            if not isinstance(item, dict) or key not in item:
                raise BadRequestError(_no_merge_key(item, key))
    wanted = _positions(order, key)
    last = -1
    for item in patch:
        if isinstance(item, dict) and PATCH in item:
            continue
        position = wanted.get(_identity(item, key))
        if position is None or position < last:
            raise BadRequestError(
                f"The order in patch list:\n{go_str(patch)}\n doesn't match "
                f"$setElementOrder list:\n{go_str(order)}\n"
            )
        last = position
    return order


def _no_merge_key(item: Json, key: str) -> str:
    return f"map: {go_str(item)} does not contain declared merge key: {key}"


# --- values the original does not have -----------------------------------------------------


def _fresh(value: Json, node: SchemaNode) -> Json | _Drop:
    """A patch value stored where the original has nothing (or a value of another type), as
    the API server ends up storing it: nulls and directive keys dropped, ``$patch`` list
    elements skipped. Under a new key a map carrying ``$patch`` is not stored at all (what
    Go's implementation does); inside a new list item (:func:`_fresh_item`) it keeps its
    other keys (what decoding into the Go type leaves of it)."""
    if isinstance(value, dict):
        return _DROP if PATCH in value else _fresh_map(value, node, False)
    return _fresh_item(value, node)


def _fresh_item(value: Json, node: SchemaNode) -> Json:
    """:func:`_fresh` inside a new list item, where nothing is dropped whole."""
    if isinstance(value, dict):
        return _fresh_map(value, node, True)
    if isinstance(value, list):
        return _fresh_list(value, node)
    return value


def _fresh_map(value: Mapping[str, Json], node: SchemaNode, item: bool) -> JsonDict:
    out: JsonDict = {}
    for key, child in value.items():
        if child is None or key in (PATCH, RETAIN_KEYS) or key.startswith((SET_ORDER, DELETE_FROM)):
            continue
        fresh = _fresh_item(child, node.field(key)) if item else _fresh(child, node.field(key))
        if fresh is not _DROP:
            out[key] = fresh
    return out


def _fresh_list(values: Sequence[Json], node: SchemaNode) -> list[Json]:
    items = node.items()
    return [
        _fresh_item(value, items)
        for value in values
        if not (isinstance(value, dict) and PATCH in value)
    ]


# --- Go's %v, for error messages worded like the API server's -------------------------------


def go_str(value: Json) -> str:
    """A value as Go's ``fmt`` prints decoded JSON with ``%v``."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_str(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def go_type(value: Json) -> str:
    """The Go type decoded JSON has (for ``expected a X, but received a Y``)."""
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    return "string" if isinstance(value, str) else "<nil>"

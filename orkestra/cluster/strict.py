"""Unknown fields: what strict decoding rejects and what typed decoding silently drops.

A real API server decodes a built-in object into its Go type, so a field the type does not
have is lost (and reported as a warning, or as an error with ``fieldValidation=Strict``,
which ``kubectl apply`` sends). The store drops such fields the same way, so an engine that
writes one would see drift in simulate exactly as it would on a cluster; the API server
layer reports them per the request's ``fieldValidation``. Custom resources are pruned by
their CRD schema in :mod:`orkestra.cluster.openapi`; this module finds their unknown fields
for the strict check. Every built-in object written goes through this walk, so it checks a
map's keys against the declared ones at once and skips what cannot hold an unknown field
(``SchemaNode.strict_inert``: labels, annotations, a ConfigMap's data, scalars).
"""

from __future__ import annotations

from collections.abc import Container

from orkestra.cluster.kubeschema import SchemaNode
from orkestra.kubeobjects import Json, JsonDict

_ROOT = ("apiVersion", "kind")
# for isinstance: the values to walk into (``dict | list`` would build a union at every call)
_NESTED = (dict, list)


def unknown_fields(value: Json, node: SchemaNode, *, remove: bool = False) -> list[str]:
    """Paths of fields ``node`` does not declare (``spec.replicass``,
    ``spec.containers[0].imagee``); with ``remove`` they are deleted in place."""
    found: list[str] = []
    _walk(value, node, "", found, remove)
    return found


def _walk(value: Json, node: SchemaNode, path: str, found: list[str], remove: bool) -> None:
    if node.strict_inert:  # also UNKNOWN and what preserves unknown fields
        return
    if isinstance(value, list):
        items = node.items()
        if items.strict_inert:
            return
        for index, item in enumerate(value):
            if isinstance(item, _NESTED):
                _walk(item, items, f"{path}[{index}]", found, remove)
        return
    if not isinstance(value, dict) or not node.walks_fields:
        return
    names = node.field_names
    if names is not None and not (isinstance(names, dict) and value.keys() <= names.keys()):
        _walk_unknown(value, node, names, path, found, remove)
        return
    for key, item in value.items():  # every key declared (nearly always; checked at once)
        if isinstance(item, _NESTED):  # a path is built only for what is walked into
            child = node.field(key)
            if not child.strict_inert:
                _walk(item, child, f"{path}.{key}" if path else key, found, remove)


def _walk_unknown(
    value: JsonDict,
    node: SchemaNode,
    names: Container[str],
    path: str,
    found: list[str],
    remove: bool,
) -> None:
    """The fields of a map with keys ``names`` does not hold, reported in order."""
    for key, item in list(value.items()):
        if key in names or (not path and key in _ROOT):
            if isinstance(item, _NESTED):
                _walk(item, node.field(key), f"{path}.{key}" if path else key, found, remove)
            continue
        found.append(f"{path}.{key}" if path else key)
        if remove:
            del value[key]

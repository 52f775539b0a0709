"""Unknown fields: what strict decoding rejects and what typed decoding silently drops.

A real API server decodes a built-in object into its Go type, so a field the type does not
have is lost (and reported as a warning, or as an error with ``fieldValidation=Strict``,
which ``kubectl apply`` sends). The store drops such fields the same way, so an engine that
writes one would see drift in simulate exactly as it would on a cluster; the API server
layer reports them per the request's ``fieldValidation``. Custom resources are pruned by
their CRD schema in :mod:`orkestra.cluster.openapi`; this module finds their unknown fields
for the strict check.
"""

from __future__ import annotations

from orkestra.cluster.kubeschema import UNKNOWN, SchemaNode
from orkestra.kubeobjects import Json, JsonDict

_ROOT = ("apiVersion", "kind")
# isinstance tuples (``dict | list`` would build a union object at every call): the
# values to walk into, and what ``key in properties`` can ask (a broken schema may hold
# a list of names)
_NESTED = (dict, list)
_CONTAINERS = (dict, list, str)


def unknown_fields(value: Json, node: SchemaNode, *, remove: bool = False) -> list[str]:
    """Paths of fields ``node`` does not declare (``spec.replicass``,
    ``spec.containers[0].imagee``); with ``remove`` they are deleted in place."""
    found: list[str] = []
    _walk(value, node, "", found, remove)
    return found


def _walk(value: Json, node: SchemaNode, path: str, found: list[str], remove: bool) -> None:
    if node is UNKNOWN or node.preserves_unknown:
        return
    if isinstance(value, dict):
        _walk_map(value, node, path, found, remove)
    elif isinstance(value, list):
        items = node.items()
        for index, item in enumerate(value):
            if isinstance(item, _NESTED):
                _walk(item, items, f"{path}[{index}]", found, remove)


def _walk_map(value: JsonDict, node: SchemaNode, path: str, found: list[str], remove: bool) -> None:
    props = node.schema.get("properties")
    extra = node.schema.get("additionalProperties")
    if props is None and extra in (None, True):
        return
    names = props if isinstance(props, _CONTAINERS) else ()
    for key in list(value):
        declared = key in names or isinstance(extra, dict) or (not path and key in _ROOT)
        where = f"{path}.{key}" if path else key
        if not declared:
            found.append(where)
            if remove:
                del value[key]
        elif isinstance(value[key], _NESTED):
            _walk(value[key], node.field(key), where, found, remove)

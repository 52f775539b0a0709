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
from orkestra.kubeobjects import Json

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
    if node is UNKNOWN or node.preserves_unknown:
        return
    if isinstance(value, list):
        items = node.items()
        for index, item in enumerate(value):
            if isinstance(item, _NESTED):
                _walk(item, items, f"{path}[{index}]", found, remove)
        return
    if not isinstance(value, dict) or not node.walks_fields:
        return
    names = node.field_names
    for key, item in list(value.items()):
        if names is None or key in names or (not path and key in _ROOT):
            if isinstance(item, _NESTED):  # a path is built only for what is walked into
                _walk(item, node.field(key), f"{path}.{key}" if path else key, found, remove)
            continue
        found.append(f"{path}.{key}" if path else key)
        if remove:
            del value[key]

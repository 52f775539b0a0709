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

from typing import Any

from orkestra.cluster.kubeschema import UNKNOWN, SchemaNode

_ROOT = ("apiVersion", "kind")


def unknown_fields(value: Any, node: SchemaNode, *, remove: bool = False) -> list[str]:
    """Paths of fields ``node`` does not declare (``spec.replicass``,
    ``spec.containers[0].imagee``); with ``remove`` they are deleted in place."""
    found: list[str] = []
    _walk(value, node, "", found, remove)
    return found


def _walk(value: Any, node: SchemaNode, path: str, found: list[str], remove: bool) -> None:
    if node is UNKNOWN or node.preserves_unknown:
        return
    if isinstance(value, dict):
        _walk_map(value, node, path, found, remove)
    elif isinstance(value, list):
        items = node.items()
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                _walk(item, items, f"{path}[{index}]", found, remove)


def _walk_map(
    value: dict[str, Any], node: SchemaNode, path: str, found: list[str], remove: bool
) -> None:
    props = node.schema.get("properties")
    extra = node.schema.get("additionalProperties")
    if props is None and extra in (None, True):
        return
    for key in list(value):
        declared = (
            (props is not None and key in props)
            or isinstance(extra, dict)
            or (not path and key in _ROOT)
        )
        where = f"{path}.{key}" if path else key
        if not declared:
            found.append(where)
            if remove:
                del value[key]
        elif isinstance(value[key], dict | list):
            _walk(value[key], node.field(key), where, found, remove)

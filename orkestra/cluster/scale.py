"""The ``scale`` subresource: an ``autoscaling/v1`` Scale view of a workload's replicas.

``kubectl scale`` and autoscalers read and write replicas through it, for built-in
workloads and for custom resources whose CRD declares ``subresources.scale`` (the paths to
the spec and status replica counts and to the label selector).
"""

from __future__ import annotations

from typing import Any

from orkestra.cluster.data import clone
from orkestra.cluster.errors import BadRequestError
from orkestra.cluster.resources import ScaleSubresource
from orkestra.cluster.selectors import selector_text

Obj = dict[str, Any]


def _parts(path: str) -> list[str]:
    if not path.startswith("."):
        raise BadRequestError(f"invalid scale path {path!r}")
    return [p for p in path[1:].split(".") if p]


def _read(obj: Obj, path: str) -> Any:
    node: Any = obj
    for part in _parts(path):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _write(obj: Obj, path: str, value: Any) -> None:
    parts = _parts(path)
    node = obj
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def scale_of(obj: Obj, paths: ScaleSubresource) -> Obj:
    """The Scale object for a workload."""
    meta = obj["metadata"]
    replicas = _read(obj, paths.get("specReplicasPath", ".spec.replicas"))
    current = _read(obj, paths.get("statusReplicasPath", ".status.replicas"))
    selector_path = paths.get("labelSelectorPath")
    selector = _read(obj, selector_path) if selector_path else None
    if selector is None and isinstance((obj.get("spec") or {}).get("selector"), dict):
        selector = selector_text(obj["spec"]["selector"])
    status: Obj = {"replicas": current if isinstance(current, int) else 0}
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": replicas if isinstance(replicas, int) else 0},
        "status": status,
    }


def scaled(obj: Obj, scale: Obj, paths: ScaleSubresource) -> Obj:
    """``obj`` with the replicas a Scale asks for."""
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise BadRequestError("Scale.spec.replicas must be a non-negative integer")
    new = clone(obj)
    _write(new, paths.get("specReplicasPath", ".spec.replicas"), replicas)
    return new

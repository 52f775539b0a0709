"""The ``scale`` subresource: an ``autoscaling/v1`` Scale view of a workload's replicas.

``kubectl scale`` and autoscalers read and write replicas through it, for built-in
workloads and for custom resources whose CRD declares ``subresources.scale`` (the paths to
the spec and status replica counts and to the label selector).
"""

from __future__ import annotations

from orkestra.cluster.data import MetaKey, clone, meta_subset
from orkestra.cluster.errors import BadRequestError
from orkestra.cluster.resources import ScaleSubresource
from orkestra.cluster.selectors import selector_text
from orkestra.kubeobjects import Json, JsonDict, KubeObject, as_json

_SCALE_META: tuple[MetaKey, ...] = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "creationTimestamp",
)


def _parts(path: str) -> list[str]:
    if not path.startswith("."):
        raise BadRequestError(f"invalid scale path {path!r}")
    return [p for p in path[1:].split(".") if p]


def _read(obj: JsonDict, path: str) -> Json:
    node: Json = obj
    for part in _parts(path):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _write(obj: JsonDict, path: str, value: Json) -> None:
    parts = _parts(path)
    node = obj
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def scale_of(obj: KubeObject, paths: ScaleSubresource) -> KubeObject:
    """The Scale object for a workload."""
    meta = obj["metadata"]
    fields = as_json(obj)  # read by the paths the CRD names
    replicas = _read(fields, paths.get("specReplicasPath", ".spec.replicas"))
    current = _read(fields, paths.get("statusReplicasPath", ".status.replicas"))
    selector_path = paths.get("labelSelectorPath")
    selector = _read(fields, selector_path) if selector_path else None
    spec_selector = (obj.get("spec") or {}).get("selector")
    if selector is None and isinstance(spec_selector, dict):
        selector = selector_text(spec_selector)
    status: JsonDict = {"replicas": current if isinstance(current, int) else 0}
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": meta_subset(meta, _SCALE_META),
        "spec": {"replicas": replicas if isinstance(replicas, int) else 0},
        "status": status,
    }


def scaled(obj: KubeObject, scale: KubeObject, paths: ScaleSubresource) -> KubeObject:
    """``obj`` with the replicas a Scale asks for."""
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise BadRequestError("Scale.spec.replicas must be a non-negative integer")
    new = clone(obj)
    _write(as_json(new), paths.get("specReplicasPath", ".spec.replicas"), replicas)
    return new

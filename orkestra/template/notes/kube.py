"""Kubernetes notes: read children and other objects in status fields and conditions.

They take the object first (``allReplicasReady .children.deployment``) and answer from its
``metadata``/``spec``/``status``; an absent object (nil) gives the "not there" answer
(``false``, ``0``, ``""``) instead of an error, because a child may not exist yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orkestra.template.functions import Func, P, func
from orkestra.template.notes.collections import _ABSENT, lookup


def _at(obj: Any, *keys: str, default: Any = None) -> Any:
    """``obj`` walked along ``keys`` as :func:`lookup` walks (a list step takes an index);
    ``default`` when a step is missing or null. Map steps, the usual ones, are taken here."""
    found = obj
    for index, key in enumerate(keys):
        if not isinstance(found, dict):
            found = lookup(found, list(keys[index:]))
            break
        found = found.get(key)
        if found is None:
            return default
    return default if found is _ABSENT or found is None else found


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


def _accessor(name: str, *path: str, default: Any = None) -> Func:
    return Func(name, lambda obj: _at(obj, *path, default=default), (P.ANY,))


def _counter(name: str, *path: str) -> Func:
    return Func(name, lambda obj: _int(_at(obj, *path, default=0)), (P.ANY,))


def desired(obj: Any) -> int:
    replicas = _at(obj, "spec", "replicas")
    return 1 if replicas is None else _int(replicas)


def replicas_ready(obj: Any) -> bool:
    """Every desired replica reports ready (a scaled-to-zero workload counts as ready)."""
    if not isinstance(obj, dict) or not obj:
        return False
    return _int(_at(obj, "status", "readyReplicas", default=0)) >= desired(obj)


@func("allReplicasReady", P.ANY)
def all_replicas_ready(obj: Any) -> bool:
    return replicas_ready(obj)


@func("replicasReady", P.ANY)
def replicas_ready_note(obj: Any) -> bool:
    return replicas_ready(obj)


@func("desiredReplicas", P.ANY)
def desired_replicas(obj: Any) -> int:
    return desired(obj) if isinstance(obj, dict) and obj else 0


@func("rolloutComplete", P.ANY)
def rollout_complete(obj: Any) -> bool:
    if not isinstance(obj, dict) or not obj:
        return False
    want = desired(obj)
    status = _at(obj, "status", default={})
    return (
        _int(status.get("updatedReplicas", 0)) >= want
        and _int(status.get("availableReplicas", 0)) >= want
        and _int(status.get("observedGeneration", 0))
        >= _int(_at(obj, "metadata", "generation", default=0))
    )


def _condition(obj: Any, kind: str) -> Mapping[str, object] | None:
    for cond in _at(obj, "status", "conditions", default=[]) or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


@func("hasCondition", P.ANY, P.STR, variadic=P.STR)
def has_condition(obj: Any, kind: str, *status: str) -> bool:
    """``hasCondition OBJ TYPE [STATUS]``: the condition exists with STATUS (default True)."""
    cond = _condition(obj, kind)
    want = status[0] if status else "True"
    return cond is not None and str(cond.get("status")) == want


@func("conditionStatus", P.ANY, P.STR)
def condition_status(obj: Any, kind: str) -> str:
    cond = _condition(obj, kind)
    return str(cond.get("status", "")) if cond else ""


@func("conditionReason", P.ANY, P.STR)
def condition_reason(obj: Any, kind: str) -> str:
    cond = _condition(obj, kind)
    return str(cond.get("reason", "")) if cond else ""


@func("conditionMessage", P.ANY, P.STR)
def condition_message(obj: Any, kind: str) -> str:
    cond = _condition(obj, kind)
    return str(cond.get("message", "")) if cond else ""


@func("resourceExists", P.ANY)
def resource_exists(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj)


@func("isTerminating", P.ANY)
def is_terminating(obj: Any) -> bool:
    return bool(_at(obj, "metadata", "deletionTimestamp"))


@func("isSynced", P.ANY)
def is_synced(obj: Any) -> bool:
    """The controller has seen the latest spec: observedGeneration >= generation."""
    if not isinstance(obj, dict) or not obj:
        return False
    return _int(_at(obj, "status", "observedGeneration", default=0)) >= _int(
        _at(obj, "metadata", "generation", default=0)
    )


def _containers(obj: Any) -> list[Any]:
    for path in (
        ("spec", "template", "spec", "containers"),
        ("spec", "jobTemplate", "spec", "template", "spec", "containers"),
        ("spec", "containers"),
    ):
        found = _at(obj, *path)
        if isinstance(found, list):
            return found
    return []


def _container(obj: Any, index: tuple[Any, ...]) -> Mapping[str, object]:
    containers = _containers(obj)
    i = _int(index[0]) if index else 0
    found = containers[i] if 0 <= i < len(containers) else {}
    return found if isinstance(found, dict) else {}


@func("containerImage", P.ANY, variadic=P.ANY)
def container_image(obj: Any, *index: Any) -> str:
    return str(_container(obj, index).get("image", ""))


@func("containerPort", P.ANY, variadic=P.ANY)
def container_port(obj: Any, *index: Any) -> int:
    ports = _container(obj, index).get("ports")
    first = ports[0] if isinstance(ports, list | tuple) and ports else None
    return _int(first.get("containerPort", 0)) if isinstance(first, dict) else 0


@func("containerEnv", P.ANY, P.STR)
def container_env(obj: Any, name: str) -> str:
    for container in _containers(obj):
        for env in (container.get("env") or []) if isinstance(container, dict) else []:
            if isinstance(env, dict) and env.get("name") == name:
                return str(env.get("value", ""))
    return ""


@func("serviceNodePort", P.ANY, variadic=P.ANY)
def service_node_port(obj: Any, *index: Any) -> int:
    ports = _at(obj, "spec", "ports", default=[])
    i = _int(index[0]) if index else 0
    if isinstance(ports, list) and 0 <= i < len(ports) and isinstance(ports[i], dict):
        return _int(ports[i].get("nodePort", 0))
    return 0


@func("endpointsReady", P.ANY)
def endpoints_ready(obj: Any) -> bool:
    """An Endpoints or EndpointSlice object lists at least one ready address."""
    for subset in _at(obj, "subsets", default=[]) or []:
        if isinstance(subset, dict) and subset.get("addresses"):
            return True
    for endpoint in _at(obj, "endpoints", default=[]) or []:
        if isinstance(endpoint, dict) and _at(endpoint, "conditions", "ready", default=True):
            return True
    return False


@func("jobSucceeded", P.ANY)
def job_succeeded(obj: Any) -> bool:
    return _int(_at(obj, "status", "succeeded", default=0)) > 0


@func("jobFailed", P.ANY)
def job_failed(obj: Any) -> bool:
    return _int(_at(obj, "status", "failed", default=0)) > 0


@func("jobActive", P.ANY)
def job_active(obj: Any) -> bool:
    return _int(_at(obj, "status", "active", default=0)) > 0


NOTES: tuple[Func, ...] = (
    all_replicas_ready,
    replicas_ready_note,
    desired_replicas,
    rollout_complete,
    _counter("readyReplicas", "status", "readyReplicas"),
    _counter("availableReplicas", "status", "availableReplicas"),
    _counter("updatedReplicas", "status", "updatedReplicas"),
    _counter("generation", "metadata", "generation"),
    _counter("observedGeneration", "status", "observedGeneration"),
    _accessor("meta", "metadata", default={}),
    _accessor("name", "metadata", "name", default=""),
    _accessor("namespace", "metadata", "namespace", default=""),
    _accessor("labels", "metadata", "labels", default={}),
    _accessor("annotations", "metadata", "annotations", default={}),
    _accessor("spec", "spec", default={}),
    _accessor("status", "status", default={}),
    _accessor("phase", "status", "phase", default=""),
    _accessor("serviceClusterIP", "spec", "clusterIP", default=""),
    _accessor("serviceLoadBalancerIP", "status", "loadBalancer", "ingress", "0", "ip", default=""),
    _accessor(
        "serviceLoadBalancerHost", "status", "loadBalancer", "ingress", "0", "hostname", default=""
    ),
    has_condition,
    condition_status,
    condition_reason,
    condition_message,
    resource_exists,
    is_terminating,
    is_synced,
    container_image,
    container_port,
    container_env,
    service_node_port,
    endpoints_ready,
    job_succeeded,
    job_failed,
    job_active,
)

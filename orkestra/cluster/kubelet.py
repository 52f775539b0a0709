"""What kubelet and the workload controllers would report, without running anything.

Neither simulate nor the embedded API server runs containers. Both pretend the same way,
through this one module: a Deployment, StatefulSet, ReplicaSet or DaemonSet reports all of
its replicas ready, updated and available for its current generation, and a Job reports
that it completed. The statuses carry the fields ``kubectl rollout status`` and
``kubectl wait --for=condition=...`` read, so both work against the embedded server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orkestra.cluster.data import clone, maps
from orkestra.kubeobjects import JsonDict, JsonObject, KubeObject

if TYPE_CHECKING:
    from orkestra.cluster.store import MemoryCluster

Settler = Callable[[KubeObject, str, int], JsonDict]

# (apiVersion, kind) of the workloads that get a status here.
WORKLOAD_KINDS = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
)
WORKLOAD_RESOURCES = {
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
}


def _condition(kind: str, reason: str, message: str, now: str) -> JsonDict:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
    }


def _replicas(obj: KubeObject) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _kept_conditions(status: JsonObject, new: list[JsonDict]) -> list[JsonDict]:
    """New conditions, keeping the transition time of those that did not change."""
    old = {c.get("type"): c for c in maps(status.get("conditions"))}
    kept = []
    for cond in new:
        before = old.get(cond["type"])
        if (
            before is not None
            and before.get("status") == cond["status"]
            and before.get("reason") == cond["reason"]
        ):
            cond = {
                **cond,
                "lastTransitionTime": before.get("lastTransitionTime"),
                "lastUpdateTime": before.get("lastUpdateTime", cond.get("lastUpdateTime")),
            }
        kept.append(cond)
    return kept


def _deployment(obj: KubeObject, now: str, nodes: int) -> JsonDict:
    n = _replicas(obj)
    name = obj["metadata"]["name"]
    status: JsonDict = {
        "replicas": n,
        "readyReplicas": n,
        "availableReplicas": n,
        "updatedReplicas": n,
        "observedGeneration": obj["metadata"].get("generation", 1),
    }
    conditions = [
        _condition(
            "Available", "MinimumReplicasAvailable", "Deployment has minimum availability.", now
        ),
        _condition(
            "Progressing",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{name}" has successfully progressed.',
            now,
        ),
    ]
    status["conditions"] = _kept_conditions(obj.get("status") or {}, conditions)
    return status


def _statefulset(obj: KubeObject, now: str, nodes: int) -> JsonDict:
    n = _replicas(obj)
    revision = f"{obj['metadata']['name']}-{obj['metadata'].get('generation', 1)}"
    return {
        "replicas": n,
        "readyReplicas": n,
        "availableReplicas": n,
        "currentReplicas": n,
        "updatedReplicas": n,
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
        "observedGeneration": obj["metadata"].get("generation", 1),
    }


def _replicaset(obj: KubeObject, now: str, nodes: int) -> JsonDict:
    n = _replicas(obj)
    return {
        "replicas": n,
        "readyReplicas": n,
        "availableReplicas": n,
        "fullyLabeledReplicas": n,
        "observedGeneration": obj["metadata"].get("generation", 1),
    }


def _daemonset(obj: KubeObject, now: str, nodes: int) -> JsonDict:
    return {
        "desiredNumberScheduled": nodes,
        "currentNumberScheduled": nodes,
        "updatedNumberScheduled": nodes,
        "numberReady": nodes,
        "numberAvailable": nodes,
        "numberMisscheduled": 0,
        "observedGeneration": obj["metadata"].get("generation", 1),
    }


def _job(obj: KubeObject, now: str, nodes: int) -> JsonDict:
    status = obj.get("status") or {}
    completions = (obj.get("spec") or {}).get("completions", 1)
    start = status.get("startTime", now)
    done = [
        _condition(
            "SuccessCriteriaMet",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
            now,
        ),
        _condition(
            "Complete", "CompletionsReached", "Reached expected number of succeeded pods", now
        ),
    ]
    for cond in done:
        cond.pop("lastUpdateTime")
        cond["lastProbeTime"] = now
    return {
        "succeeded": completions if isinstance(completions, int) else 1,
        "active": 0,
        "ready": 0,
        "terminating": 0,
        "startTime": start,
        "completionTime": status.get("completionTime", now),
        "uncountedTerminatedPods": {},
        "conditions": _kept_conditions(status, done),
    }


SETTLERS: dict[str, Settler] = {
    "Deployment": _deployment,
    "StatefulSet": _statefulset,
    "ReplicaSet": _replicaset,
    "DaemonSet": _daemonset,
    "Job": _job,
}


def settled_status(obj: KubeObject, now: str, nodes: int = 1) -> JsonDict | None:
    """The status a running cluster would report for this workload, or None when the
    object already reports it (or is not a workload)."""
    settle = SETTLERS.get(str(obj.get("kind", "")))
    if settle is None or str(obj.get("apiVersion", "")) not in ("apps/v1", "batch/v1"):
        return None
    current = obj.get("status") or {}
    if obj["kind"] == "Job" and current.get("succeeded"):
        return None
    wanted = {**current, **settle(obj, now, nodes)}
    return None if wanted == current else clone(wanted)


def settle_workloads(cluster: MemoryCluster) -> int:
    """Give every workload of the cluster its running status; returns how many changed."""
    nodes = len(cluster.list("v1", "Node", None, record=False))
    changed = 0
    for api_version, kind in WORKLOAD_KINDS:
        for obj in cluster.list(api_version, kind, None, record=False):
            status = settled_status(obj, cluster.now(), nodes or 1)
            if status is not None:
                cluster.update_status({**obj, "status": status})
                changed += 1
    return changed

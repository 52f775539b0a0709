"""The objects a kubelet and the workload controllers write for locally run Pods: the Pod
itself, its status, and the status of its Deployment, StatefulSet or Job.

Pods belong to their workload directly (no ReplicaSet or ControllerRevision in between:
``kubectl logs deployment/x``, ``kubectl rollout status`` and Helm's ``--wait`` read only
the workload, its selector and its Pods). Statuses carry the fields those clients read;
:mod:`orkestra.apiserver.processes` decides the numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from dataclasses import dataclass

from orkestra.apiserver.specs import Container, workload_spec
from orkestra.cluster.data import clone
from orkestra.kubeobjects import Json, JsonDict, KubeObject, ObjectMeta

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the API server's safe characters for names
NODE_NAME = "ork-embedded"
LOCAL_PID = "orkestra.io/local-pid"  # annotation: the process that runs the Pod
LOCALHOST = "127.0.0.1"


def _safe(digest: bytes, length: int) -> str:
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:length])


def template_hash(template: Json) -> str:
    """A stable short hash of a pod template (``pod-template-hash``)."""
    return _safe(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest(), 10)


def random_suffix() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(5))


def replicas(workload: KubeObject) -> int:
    spec = workload_spec(workload)
    value = spec.get("parallelism", 1) if workload.get("kind") == "Job" else spec.get("replicas", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


@dataclass(frozen=True, kw_only=True)
class PodState:
    """What the runner knows of one Pod's container."""

    ready: bool = False
    running: bool = False
    restarts: int = 0
    started_at: str = ""
    waiting: str = ""  # a waiting reason (ContainerCreating, CrashLoopBackOff, …)
    message: str = ""
    exit_code: int | None = None  # set once terminated for good (Jobs)


def pod_labels(workload: KubeObject, revision: str, name: str) -> dict[str, str]:
    template = workload_spec(workload).get("template") or {}
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    kind = workload["kind"]
    owner = str(workload["metadata"]["name"])
    if kind == "Deployment":
        labels["pod-template-hash"] = revision
    elif kind == "StatefulSet":
        labels["controller-revision-hash"] = f"{owner}-{revision}"
        labels["statefulset.kubernetes.io/pod-name"] = name
    elif kind == "Job":
        labels.setdefault("batch.kubernetes.io/job-name", owner)
        labels.setdefault("job-name", owner)
        labels.setdefault("controller-uid", str(workload["metadata"].get("uid", "")))
    return labels


def _template_spec(workload: KubeObject) -> JsonDict:
    """A copy of the spec of the workload's pod template, on the embedded node."""
    template = (workload.get("spec") or {}).get("template")
    found = template.get("spec") if isinstance(template, dict) else None
    spec: JsonDict = clone(found) if isinstance(found, dict) else {}
    spec["nodeName"] = NODE_NAME
    return spec


def pod_object(workload: KubeObject, name: str, revision: str) -> KubeObject:
    """A new Pod of ``workload`` (its template, owned by it, on the embedded node)."""
    meta = workload["metadata"]
    template_meta = (workload_spec(workload).get("template") or {}).get("metadata") or {}
    metadata: ObjectMeta = {
        "name": name,
        "namespace": meta.get("namespace", "default"),
        "labels": pod_labels(workload, revision, name),
        "ownerReferences": [
            {
                "apiVersion": workload["apiVersion"],
                "kind": workload["kind"],
                "name": meta["name"],
                "uid": meta.get("uid", ""),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if template_meta.get("annotations"):
        metadata["annotations"] = dict(template_meta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": _template_spec(workload),
    }


def _condition(kind: str, ok: bool, now: str) -> JsonDict:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "lastProbeTime": None,
        "lastTransitionTime": now,
    }


def _container_state(state: PodState) -> JsonDict:
    if state.exit_code is not None:
        return {
            "terminated": {
                "exitCode": state.exit_code,
                "reason": "Completed" if state.exit_code == 0 else "Error",
                "startedAt": state.started_at or None,
            }
        }
    if state.running:
        return {"running": {"startedAt": state.started_at}}
    waiting: JsonDict = {"reason": state.waiting or "ContainerCreating"}
    if state.message:
        waiting["message"] = state.message
    return {"waiting": waiting}


def _phase(state: PodState) -> str:
    if state.exit_code is not None:
        return "Succeeded" if state.exit_code == 0 else "Failed"
    return "Running" if state.running else "Pending"


def _by_type(conditions: Json) -> dict[Json, JsonDict]:
    """Status conditions by their type."""
    if not isinstance(conditions, list):
        return {}
    return {c.get("type"): c for c in conditions if isinstance(c, dict)}


def pod_status(pod: KubeObject, container: Container, state: PodState, now: str) -> JsonDict:
    """The status the kubelet would report for the Pod's (one local) container."""
    old = pod.get("status") or {}
    conditions = [
        _condition("PodScheduled", True, now),
        _condition("Initialized", True, now),
        _condition("ContainersReady", state.ready, now),
        _condition("Ready", state.ready, now),
    ]
    before = _by_type(old.get("conditions"))
    for cond in conditions:
        previous = before.get(cond["type"])
        if previous is not None and previous.get("status") == cond["status"]:
            cond["lastTransitionTime"] = previous.get("lastTransitionTime")
    status: JsonDict = {
        "phase": _phase(state),
        "conditions": conditions,
        "hostIP": LOCALHOST,
        "podIP": LOCALHOST,
        "podIPs": [{"ip": LOCALHOST}],
        "qosClass": "Burstable",
        "startTime": old.get("startTime") or now,
        "containerStatuses": [
            {
                "name": container.get("name", ""),
                "image": container.get("image", ""),
                "imageID": "",
                "containerID": "",
                "ready": state.ready,
                "started": state.running,
                "restartCount": state.restarts,
                "state": _container_state(state),
            }
        ],
    }
    return status


# -- workload statuses --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Counts:
    """A workload's Pods as its controller counts them."""

    total: int = 0  # Pods that exist and are not terminating
    updated: int = 0  # of those, of the current template
    ready: int = 0  # ready, any template
    ready_updated: int = 0
    succeeded: int = 0  # Jobs
    failed: int = 0  # Jobs: failed attempts
    active: int = 0  # Jobs: running attempts


def _kept(old: Json, new: list[JsonDict]) -> list[JsonDict]:
    before = _by_type(old)
    kept = []
    for cond in new:
        previous = before.get(cond["type"])
        if (
            previous is not None
            and previous.get("status") == cond["status"]
            and previous.get("reason") == cond.get("reason")
        ):
            cond = {
                **cond,
                "lastTransitionTime": previous.get("lastTransitionTime"),
                "lastUpdateTime": previous.get("lastUpdateTime", cond.get("lastUpdateTime")),
            }
        kept.append(cond)
    return kept


def _max_unavailable(workload: KubeObject, wanted: int) -> int:
    rolling = (workload_spec(workload).get("strategy") or {}).get("rollingUpdate") or {}
    value = rolling.get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return math.floor(wanted * int(value[:-1]) / 100)
    return value if isinstance(value, int) else 0


def _cond(kind: str, ok: bool, reason: str, message: str, now: str) -> JsonDict:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
    }


def deployment_status(workload: KubeObject, counts: Counts, now: str) -> JsonDict:
    wanted = replicas(workload)
    name = workload["metadata"]["name"]
    available = counts.ready >= wanted - _max_unavailable(workload, wanted)
    done = counts.updated == wanted == counts.total and counts.ready_updated == wanted
    status: JsonDict = {
        "observedGeneration": workload["metadata"].get("generation", 1),
        "replicas": counts.total,
        "updatedReplicas": counts.updated,
        "readyReplicas": counts.ready,
        "availableReplicas": counts.ready,
        "unavailableReplicas": max(counts.total - counts.ready, 0),
    }
    status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
    conditions = [
        _cond(
            "Available",
            available,
            "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
            "Deployment has minimum availability."
            if available
            else "Deployment does not have minimum availability.",
            now,
        ),
        _cond(
            "Progressing",
            True,
            "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
            f'ReplicaSet "{name}" has successfully progressed.'
            if done
            else f'ReplicaSet "{name}" is progressing.',
            now,
        ),
    ]
    old = (workload.get("status") or {}).get("conditions") or []
    status["conditions"] = _kept(old, conditions)
    return status


def statefulset_status(workload: KubeObject, counts: Counts, revision: str, now: str) -> JsonDict:
    name = workload["metadata"]["name"]
    current = f"{name}-{revision}"
    return {
        "observedGeneration": workload["metadata"].get("generation", 1),
        "replicas": counts.total,
        "readyReplicas": counts.ready,
        "availableReplicas": counts.ready,
        "currentReplicas": counts.updated,
        "updatedReplicas": counts.updated,
        "currentRevision": current,
        "updateRevision": current,
        "collisionCount": 0,
    }


def job_status(workload: KubeObject, counts: Counts, now: str) -> JsonDict:
    old = workload.get("status") or {}
    status: JsonDict = {
        "active": counts.active,
        "ready": counts.ready,
        "terminating": 0,
        "succeeded": counts.succeeded,
        "failed": counts.failed,
        "startTime": old.get("startTime") or now,
        "uncountedTerminatedPods": {},
    }
    status = {k: v for k, v in status.items() if v or k in ("active", "startTime")}
    conditions: list[JsonDict] = []
    if job_succeeded(workload, counts):
        status["completionTime"] = old.get("completionTime") or now
        conditions = [
            _cond(
                "SuccessCriteriaMet",
                True,
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            ),
            _cond(
                "Complete",
                True,
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            ),
        ]
    elif job_failed(workload, counts):
        conditions = [
            _cond(
                "FailureTarget",
                True,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                now,
            ),
            _cond(
                "Failed",
                True,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                now,
            ),
        ]
    for cond in conditions:
        cond.pop("lastUpdateTime")
        cond["lastProbeTime"] = now
    if conditions:
        status["conditions"] = _kept(old.get("conditions") or [], conditions)
    return status


def completions(workload: KubeObject) -> int:
    value = workload_spec(workload).get("completions", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def backoff_limit(workload: KubeObject) -> int:
    value = workload_spec(workload).get("backoffLimit", 6)
    return value if isinstance(value, int) and not isinstance(value, bool) else 6


def job_succeeded(workload: KubeObject, counts: Counts) -> bool:
    return counts.succeeded >= completions(workload)


def job_failed(workload: KubeObject, counts: Counts) -> bool:
    return counts.failed > backoff_limit(workload)

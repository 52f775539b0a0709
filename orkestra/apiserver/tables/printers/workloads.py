"""The printers of workloads: the ``apps`` and ``batch`` kinds, and Pods.

This module owns the columns and cells of Deployments, StatefulSets, ReplicaSets,
DaemonSets, Jobs and CronJobs (replica counts, a job's status, completions and duration,
the containers, images and selector of ``-o wide``) and of Pods: the aggregate status
kubectl shows (init containers, sidecars, waiting and terminated reasons, ``Terminating``),
restarts with how long ago the last one was, and the row ``conditions`` of a finished pod.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orkestra.apiserver.tables.formats import (
    NONE,
    age,
    age_of,
    as_int,
    dict_at,
    dicts_at,
    format_labels,
    format_selector,
    human_age,
    list_at,
    metadata,
    or_none,
    value_at,
)
from orkestra.apiserver.tables.printers.columns import AGE, NAME, Cell, Column, Printer, col
from orkestra.kubeobjects import Condition, JsonObject, KubeObject
from orkestra.units import parse_timestamp

_CONTAINERS = Column(
    name="Containers", priority=1, description="Names of each container in the template."
)
_IMAGES = Column(
    name="Images", priority=1, description="Images referenced by each container in the template."
)
_SELECTOR = Column(name="Selector", priority=1, description="Label query over the pods managed.")
_WORKLOAD_WIDE = (_CONTAINERS, _IMAGES, _SELECTOR)


def _pod_template_cells(obj: KubeObject) -> list[Cell]:
    containers = dicts_at(obj, "spec", "template", "spec", "containers")
    return [
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    ]


def _has_condition(obj: KubeObject, kind: str, status: str = "True") -> bool:
    return any(
        c.get("type") == kind and c.get("status") == status
        for c in dicts_at(obj, "status", "conditions")
    )


def _deployment(obj: KubeObject, now: datetime) -> list[Cell]:
    status = dict_at(obj, "status")
    desired = as_int(value_at(obj, "spec", "replicas"), 1)
    return [
        metadata(obj).get("name", ""),
        f"{as_int(status.get('readyReplicas'))}/{desired}",
        as_int(status.get("updatedReplicas")),
        as_int(status.get("availableReplicas")),
        age_of(obj, now),
        *_pod_template_cells(obj),
        format_selector(value_at(obj, "spec", "selector")),
    ]


def _statefulset(obj: KubeObject, now: datetime) -> list[Cell]:
    desired = as_int(value_at(obj, "spec", "replicas"), 1)
    ready = as_int(value_at(obj, "status", "readyReplicas"))
    return [
        metadata(obj).get("name", ""),
        f"{ready}/{desired}",
        age_of(obj, now),
        *_pod_template_cells(obj),
    ]


def _replicaset(obj: KubeObject, now: datetime) -> list[Cell]:
    status = dict_at(obj, "status")
    return [
        metadata(obj).get("name", ""),
        as_int(value_at(obj, "spec", "replicas"), 1),
        as_int(status.get("replicas")),
        as_int(status.get("readyReplicas")),
        age_of(obj, now),
        *_pod_template_cells(obj),
        format_selector(value_at(obj, "spec", "selector")),
    ]


def _daemonset(obj: KubeObject, now: datetime) -> list[Cell]:
    s = dict_at(obj, "status")
    node_selector = value_at(obj, "spec", "template", "spec", "nodeSelector")
    return [
        metadata(obj).get("name", ""),
        as_int(s.get("desiredNumberScheduled")),
        as_int(s.get("currentNumberScheduled")),
        as_int(s.get("numberReady")),
        as_int(s.get("updatedNumberScheduled")),
        as_int(s.get("numberAvailable")),
        format_labels(node_selector),
        age_of(obj, now),
        *_pod_template_cells(obj),
        format_selector(value_at(obj, "spec", "selector")),
    ]


def _job_status(obj: KubeObject) -> str:
    if _has_condition(obj, "Complete"):
        return "Complete"
    if _has_condition(obj, "Failed"):
        return "Failed"
    if metadata(obj).get("deletionTimestamp"):
        return "Terminating"
    for condition in ("SuccessCriteriaMet", "FailureTarget", "Suspended"):
        if _has_condition(obj, condition):
            return condition
    return "Running"


def _job_completions(obj: KubeObject) -> str:
    succeeded = as_int(value_at(obj, "status", "succeeded"))
    completions = value_at(obj, "spec", "completions")
    parallelism = value_at(obj, "spec", "parallelism")
    if isinstance(completions, int):
        return f"{succeeded}/{completions}"
    if isinstance(parallelism, int) and parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def _job_duration(obj: KubeObject, now: datetime) -> str:
    start = parse_timestamp(str(value_at(obj, "status", "startTime") or ""))
    if start is None:
        return ""
    end = parse_timestamp(str(value_at(obj, "status", "completionTime") or "")) or now
    return human_age((end - start).total_seconds())


def _job(obj: KubeObject, now: datetime) -> list[Cell]:
    return [
        metadata(obj).get("name", ""),
        _job_status(obj),
        _job_completions(obj),
        _job_duration(obj, now),
        age_of(obj, now),
        *_pod_template_cells(obj),
        format_selector(value_at(obj, "spec", "selector")),
    ]


def _cronjob(obj: KubeObject, now: datetime) -> list[Cell]:
    spec = dict_at(obj, "spec")
    last = value_at(obj, "status", "lastScheduleTime")
    containers = dicts_at(spec, "jobTemplate", "spec", "template", "spec", "containers")
    return [
        metadata(obj).get("name", ""),
        spec.get("schedule", ""),
        or_none(spec.get("timeZone")),
        "True" if spec.get("suspend") is True else "False",
        len(list_at(obj, "status", "active")),
        age(last, now) if last else NONE,
        age_of(obj, now),
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
        format_selector(value_at(spec, "jobTemplate", "spec", "selector")),
    ]


def _container_reason(state: JsonObject) -> str:
    waiting, done = dict_at(state, "waiting"), value_at(state, "terminated")
    if waiting.get("reason"):
        return str(waiting["reason"])
    if isinstance(done, dict):
        if done.get("reason"):
            return str(done["reason"])
        if as_int(done.get("signal")):
            return f"Signal:{done['signal']}"
        return f"ExitCode:{as_int(done.get('exitCode'))}"
    return ""


@dataclass(kw_only=True)
class _PodTally:
    reason: str
    restarts: int = 0
    last_restart: datetime | None = None
    ready: int = 0
    running: bool = False

    def count(self, cs: JsonObject) -> None:
        self.restarts += as_int(cs.get("restartCount"))
        finished = parse_timestamp(str(value_at(cs, "lastState", "terminated", "finishedAt") or ""))
        if finished and (self.last_restart is None or finished > self.last_restart):
            self.last_restart = finished


def _sidecars(pod: KubeObject) -> set[str]:
    return {
        str(c.get("name"))
        for c in dicts_at(pod, "spec", "initContainers")
        if c.get("restartPolicy") == "Always"
    }


def _init_reason(pod: KubeObject, tally: _PodTally) -> bool:
    """Set the reason from init containers; True while the pod is still initialising."""
    sidecars = _sidecars(pod)
    total = len(list_at(pod, "spec", "initContainers"))
    for i, cs in enumerate(dicts_at(pod, "status", "initContainerStatuses")):
        tally.count(cs)
        state, name = dict_at(cs, "state"), str(cs.get("name"))
        if "terminated" in state and as_int(value_at(state, "terminated", "exitCode")) == 0:
            continue
        if name in sidecars and cs.get("started") is True:
            if cs.get("ready") is True:
                tally.ready += 1
            continue
        reason = _container_reason(state)
        waiting_reason = value_at(state, "waiting", "reason")
        if "terminated" in state or (waiting_reason and waiting_reason != "PodInitializing"):
            tally.reason = f"Init:{reason}"
        else:
            tally.reason = f"Init:{i}/{total}"
        return True
    return False


def _container_states(pod: KubeObject, tally: _PodTally) -> None:
    for cs in reversed(dicts_at(pod, "status", "containerStatuses")):
        tally.count(cs)
        state = dict_at(cs, "state")
        reason = _container_reason(state)
        if reason:
            tally.reason = reason
        elif "running" in state and cs.get("ready") is True:
            tally.running = True
            tally.ready += 1
    if tally.reason == "Completed" and tally.running:
        tally.reason = "Running" if _has_condition(pod, "Ready") else "NotReady"


def _pod_tally(pod: KubeObject) -> _PodTally:
    status = dict_at(pod, "status")
    tally = _PodTally(reason=str(status.get("reason") or status.get("phase") or "Pending"))
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for c in dicts_at(status, "conditions")
    ):
        tally.reason = "SchedulingGated"
    initializing = _init_reason(pod, tally)
    if not initializing or _has_condition(pod, "Initialized"):
        _container_states(pod, tally)
    if metadata(pod).get("deletionTimestamp"):
        tally.reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return tally


def _pod(obj: KubeObject, now: datetime) -> list[Cell]:
    tally = _pod_tally(obj)
    total = len(list_at(obj, "spec", "containers")) + len(_sidecars(obj))
    restarts = str(tally.restarts)
    if tally.restarts and tally.last_restart:
        restarts += f" ({human_age((now - tally.last_restart).total_seconds())} ago)"
    status, spec = dict_at(obj, "status"), dict_at(obj, "spec")
    gates = dicts_at(spec, "readinessGates")
    gates_cell = NONE
    if gates:
        wanted = {g.get("conditionType") for g in gates}
        met = sum(
            1
            for c in dicts_at(status, "conditions")
            if c.get("type") in wanted and c.get("status") == "True"
        )
        gates_cell = f"{met}/{len(gates)}"
    return [
        metadata(obj).get("name", ""),
        f"{tally.ready}/{total}",
        tally.reason,
        restarts,
        age_of(obj, now),
        or_none(status.get("podIP")),
        or_none(spec.get("nodeName")),
        or_none(status.get("nominatedNodeName")),
        gates_cell,
    ]


def pod_conditions(obj: KubeObject) -> list[Condition]:
    phase = value_at(obj, "status", "phase")
    if phase in ("Succeeded", "Failed"):
        return [{"type": "Completed", "status": "True"}]
    return []


PRINTERS: dict[tuple[str, str], Printer] = {
    ("apps", "Deployment"): Printer(
        (
            NAME,
            col("Ready", "Ready replicas out of desired."),
            col("Up-to-date", "Replicas updated to the latest template."),
            col("Available", "Replicas available to serve."),
            AGE,
            *_WORKLOAD_WIDE,
        ),
        _deployment,
    ),
    ("apps", "StatefulSet"): Printer(
        (NAME, col("Ready", "Ready replicas out of desired."), AGE, _CONTAINERS, _IMAGES),
        _statefulset,
    ),
    ("apps", "ReplicaSet"): Printer(
        (
            NAME,
            col("Desired", "Desired replicas.", "integer"),
            col("Current", "Current replicas.", "integer"),
            col("Ready", "Ready replicas.", "integer"),
            AGE,
            *_WORKLOAD_WIDE,
        ),
        _replicaset,
    ),
    ("apps", "DaemonSet"): Printer(
        (
            NAME,
            col("Desired", "Nodes that should run the pod.", "integer"),
            col("Current", "Nodes running the pod.", "integer"),
            col("Ready", "Nodes with the pod ready.", "integer"),
            col("Up-to-date", "Nodes running the latest template.", "integer"),
            col("Available", "Nodes with the pod available.", "integer"),
            col("Node Selector", "Which nodes the pod may run on."),
            AGE,
            *_WORKLOAD_WIDE,
        ),
        _daemonset,
    ),
    ("batch", "Job"): Printer(
        (
            NAME,
            col("Status", "Status of the job."),
            col("Completions", "Succeeded pods out of those wanted."),
            col("Duration", "Time the job took, or has been running."),
            AGE,
            *_WORKLOAD_WIDE,
        ),
        _job,
    ),
    ("batch", "CronJob"): Printer(
        (
            NAME,
            col("Schedule", "The schedule in cron format."),
            col("Timezone", "Time zone of the schedule."),
            col("Suspend", "Whether new runs are suspended.", "boolean"),
            col("Active", "Jobs running now.", "integer"),
            col("Last Schedule", "Time since the last run was scheduled."),
            AGE,
            *_WORKLOAD_WIDE,
        ),
        _cronjob,
    ),
    ("", "Pod"): Printer(
        (
            NAME,
            col("Ready", "Ready containers out of all containers."),
            col("Status", "Aggregate status of the pod's containers."),
            col("Restarts", "Container restarts, and how long ago the last one was."),
            AGE,
            col("IP", "IP address of the pod.", priority=1),
            col("Node", "Node the pod is scheduled on.", priority=1),
            col("Nominated Node", "Node nominated by preemption.", priority=1),
            col("Readiness Gates", "Readiness gates met out of declared.", priority=1),
        ),
        _pod,
    ),
}

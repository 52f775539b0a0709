"""Server-side printing: the ``meta.k8s.io`` ``Table`` an API server returns to ``kubectl get``.

This module owns what a client sees when it asks for ``application/json;as=Table``: the
column definitions and cells of every built-in kind the in-memory cluster serves (the same
columns, cell types and ``<none>``/``<unknown>`` placeholders as the real API server's
printers), the ``additionalPrinterColumns`` of custom resources evaluated with the JSONPath
subset CRDs use, ages in kubectl's short human form, the row ``object`` for each
``includeObject`` choice, and reading a request's ``Accept`` header to tell whether a Table
was asked for. Pure functions over plain dicts; the clock is a parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from orkestra.cluster.resources import ResourceType
from orkestra.units import format_timestamp, parse_timestamp

Obj = dict[str, Any]
Cell = str | int | float | bool | None
CellsFn = Callable[[Obj, datetime], list[Cell]]

INCLUDE_OBJECT = ("Object", "Metadata", "None")
TABLE_VERSIONS = ("v1", "v1beta1")
NONE = "<none>"
UNKNOWN = "<unknown>"


@dataclass(frozen=True)
class Column:
    """One ``TableColumnDefinition``; ``priority`` > 0 shows only with ``-o wide``."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def definition(self) -> Obj:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": self.description, "priority": self.priority}


@dataclass(frozen=True)
class TableRequest:
    """A request for a Table: the ``meta.k8s.io`` version and what each row carries."""

    version: str = "v1"
    include_object: str = "Metadata"


# ---------------------------------------------------------------------------------------
# Content negotiation


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        out.append((pieces[0].lower(), params))
    return out


def _plain(media: str, params: dict[str, str]) -> bool:
    return "as" not in params and media in ("application/json", "application/*", "*/*",
                                           "application/yaml")


def table_request(accept: str | None, include_object: str | None = None) -> TableRequest | None:
    """The Table a request asks for, or None for a plain object or list.

    ``accept`` is the ``Accept`` header; the first media range the server can serve wins,
    as in ``application/json;as=Table;v=v1;g=meta.k8s.io,application/json`` (what kubectl
    sends). ``include_object`` is the ``includeObject`` query parameter (Object, Metadata or
    None; default Metadata); any other value raises ValueError.
    """
    include = include_object or "Metadata"
    if include not in INCLUDE_OBJECT:
        raise ValueError(f'includeObject: Unsupported value: "{include}": supported values: '
                         + ", ".join(f'"{v}"' for v in INCLUDE_OBJECT))
    for media, params in _media_ranges(accept or ""):
        if params.get("as") == "Table":
            if (media == "application/json" and params.get("g") == "meta.k8s.io"
                    and params.get("v") in TABLE_VERSIONS):
                return TableRequest(params["v"], include)
            continue
        if _plain(media, params):
            return None
    return None


# ---------------------------------------------------------------------------------------
# Ages and small formatters


def human_age(seconds: float) -> str:
    """kubectl's short duration: ``5s``, ``3m2s``, ``10m``, ``4h5m``, ``9h``, ``3d4h``,
    ``20d``, ``2y3d``, ``9y``; ``0s`` for up to a second of clock skew, ``<invalid>`` beyond."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return _pair(minutes, "m", whole % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        return _pair(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return _pair(days, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return _pair(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def _pair(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}{small}{small_unit}" if small else f"{big}{big_unit}"


def age(timestamp: Any, now: datetime) -> str:
    """How long ago an RFC 3339 timestamp was, or ``<unknown>`` when there is none."""
    moment = parse_timestamp(timestamp) if isinstance(timestamp, str) and timestamp else None
    if moment is None:
        return UNKNOWN
    return human_age((now - moment).total_seconds())


def _created_at(obj: Obj) -> str:
    moment = parse_timestamp(str(_meta(obj).get("creationTimestamp") or ""))
    return format_timestamp(moment) if moment else "0001-01-01T00:00:00Z"


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _dict(obj: Any, *path: str) -> Obj:
    value = _get(obj, *path)
    return value if isinstance(value, dict) else {}


def _list(obj: Any, *path: str) -> list[Any]:
    value = _get(obj, *path)
    return value if isinstance(value, list) else []


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _or_none(text: Any) -> str:
    return str(text) if text not in (None, "") else NONE


def format_labels(labels: Any) -> str:
    """``a=1,b=2`` sorted by key, ``<none>`` when empty."""
    if not isinstance(labels, dict) or not labels:
        return NONE
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def format_selector(selector: Any) -> str:
    """A ``LabelSelector`` as a selector string (``app=web,tier in (a,b),!gone``)."""
    if not isinstance(selector, dict):
        return NONE
    parts = [(k, f"{k}={v}") for k, v in _dict(selector, "matchLabels").items()]
    for expr in _list(selector, "matchExpressions"):
        parts.append((str(expr.get("key", "")), _expression(expr)))
    return ",".join(text for _, text in sorted(parts)) or NONE


def _expression(expr: Obj) -> str:
    key, op = expr.get("key", ""), expr.get("operator", "")
    values = ",".join(sorted(str(v) for v in expr.get("values") or []))
    if op == "In":
        return f"{key} in ({values})"
    if op == "NotIn":
        return f"{key} notin ({values})"
    return f"!{key}" if op == "DoesNotExist" else str(key)


def _pod_template_cells(obj: Obj) -> list[Cell]:
    containers = _list(obj, "spec", "template", "spec", "containers")
    return [",".join(str(c.get("name", "")) for c in containers),
            ",".join(str(c.get("image", "")) for c in containers)]


def _has_condition(obj: Obj, kind: str, status: str = "True") -> bool:
    return any(c.get("type") == kind and c.get("status") == status
               for c in _list(obj, "status", "conditions") if isinstance(c, dict))


# ---------------------------------------------------------------------------------------
# Built-in printers

_NAME = Column("Name", format="name",
               description="Name of the object, unique within its namespace.")
_AGE = Column("Age", description="Time since the object was created (creationTimestamp).")
_CREATED = Column("Created At", "date",
                  description="When the object was created (creationTimestamp).")
_CONTAINERS = Column("Containers", priority=1,
                     description="Names of each container in the template.")
_IMAGES = Column("Images", priority=1,
                 description="Images referenced by each container in the template.")
_SELECTOR = Column("Selector", priority=1, description="Label query over the pods managed.")


def _c(name: str, description: str, type_: str = "string", priority: int = 0) -> Column:
    return Column(name, type_, "", description, priority)


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    cells: CellsFn


def _name_age(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), age(_meta(obj).get("creationTimestamp"), now)]


def _created(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), _created_at(obj)]


def _age_of(obj: Obj, now: datetime) -> str:
    return age(_meta(obj).get("creationTimestamp"), now)


def _deployment(obj: Obj, now: datetime) -> list[Cell]:
    status = _dict(obj, "status")
    desired = _int(_get(obj, "spec", "replicas"), 1)
    return [_meta(obj).get("name", ""), f"{_int(status.get('readyReplicas'))}/{desired}",
            _int(status.get("updatedReplicas")), _int(status.get("availableReplicas")),
            _age_of(obj, now), *_pod_template_cells(obj),
            format_selector(_get(obj, "spec", "selector"))]


def _statefulset(obj: Obj, now: datetime) -> list[Cell]:
    desired = _int(_get(obj, "spec", "replicas"), 1)
    ready = _int(_get(obj, "status", "readyReplicas"))
    return [_meta(obj).get("name", ""), f"{ready}/{desired}", _age_of(obj, now),
            *_pod_template_cells(obj)]


def _replicaset(obj: Obj, now: datetime) -> list[Cell]:
    status = _dict(obj, "status")
    return [_meta(obj).get("name", ""), _int(_get(obj, "spec", "replicas"), 1),
            _int(status.get("replicas")), _int(status.get("readyReplicas")), _age_of(obj, now),
            *_pod_template_cells(obj), format_selector(_get(obj, "spec", "selector"))]


def _daemonset(obj: Obj, now: datetime) -> list[Cell]:
    s = _dict(obj, "status")
    node_selector = _get(obj, "spec", "template", "spec", "nodeSelector")
    return [_meta(obj).get("name", ""), _int(s.get("desiredNumberScheduled")),
            _int(s.get("currentNumberScheduled")), _int(s.get("numberReady")),
            _int(s.get("updatedNumberScheduled")), _int(s.get("numberAvailable")),
            format_labels(node_selector), _age_of(obj, now), *_pod_template_cells(obj),
            format_selector(_get(obj, "spec", "selector"))]


def _job_status(obj: Obj) -> str:
    if _has_condition(obj, "Complete"):
        return "Complete"
    if _has_condition(obj, "Failed"):
        return "Failed"
    if _meta(obj).get("deletionTimestamp"):
        return "Terminating"
    for condition in ("SuccessCriteriaMet", "FailureTarget", "Suspended"):
        if _has_condition(obj, condition):
            return condition
    return "Running"


def _job_completions(obj: Obj) -> str:
    succeeded = _int(_get(obj, "status", "succeeded"))
    completions = _get(obj, "spec", "completions")
    parallelism = _get(obj, "spec", "parallelism")
    if isinstance(completions, int):
        return f"{succeeded}/{completions}"
    if isinstance(parallelism, int) and parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def _job_duration(obj: Obj, now: datetime) -> str:
    start = parse_timestamp(str(_get(obj, "status", "startTime") or ""))
    if start is None:
        return ""
    end = parse_timestamp(str(_get(obj, "status", "completionTime") or "")) or now
    return human_age((end - start).total_seconds())


def _job(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), _job_status(obj), _job_completions(obj),
            _job_duration(obj, now), _age_of(obj, now), *_pod_template_cells(obj),
            format_selector(_get(obj, "spec", "selector"))]


def _cronjob(obj: Obj, now: datetime) -> list[Cell]:
    spec = _dict(obj, "spec")
    last = _get(obj, "status", "lastScheduleTime")
    containers = _list(spec, "jobTemplate", "spec", "template", "spec", "containers")
    return [_meta(obj).get("name", ""), spec.get("schedule", ""), _or_none(spec.get("timeZone")),
            "True" if spec.get("suspend") is True else "False",
            len(_list(obj, "status", "active")), age(last, now) if last else NONE,
            _age_of(obj, now), ",".join(str(c.get("name", "")) for c in containers),
            ",".join(str(c.get("image", "")) for c in containers),
            format_selector(_get(spec, "jobTemplate", "spec", "selector"))]


def _container_reason(state: Obj) -> str:
    waiting, done = _dict(state, "waiting"), _get(state, "terminated")
    if waiting.get("reason"):
        return str(waiting["reason"])
    if isinstance(done, dict):
        if done.get("reason"):
            return str(done["reason"])
        if _int(done.get("signal")):
            return f"Signal:{done['signal']}"
        return f"ExitCode:{_int(done.get('exitCode'))}"
    return ""


@dataclass
class _PodTally:
    reason: str
    restarts: int = 0
    last_restart: datetime | None = None
    ready: int = 0
    running: bool = False

    def count(self, cs: Obj) -> None:
        self.restarts += _int(cs.get("restartCount"))
        finished = parse_timestamp(str(_get(cs, "lastState", "terminated", "finishedAt") or ""))
        if finished and (self.last_restart is None or finished > self.last_restart):
            self.last_restart = finished


def _sidecars(pod: Obj) -> set[str]:
    return {str(c.get("name")) for c in _list(pod, "spec", "initContainers")
            if c.get("restartPolicy") == "Always"}


def _init_reason(pod: Obj, tally: _PodTally) -> bool:
    """Set the reason from init containers; True while the pod is still initialising."""
    sidecars = _sidecars(pod)
    total = len(_list(pod, "spec", "initContainers"))
    for i, cs in enumerate(_list(pod, "status", "initContainerStatuses")):
        tally.count(cs)
        state, name = _dict(cs, "state"), str(cs.get("name"))
        if "terminated" in state and _int(_get(state, "terminated", "exitCode")) == 0:
            continue
        if name in sidecars and cs.get("started") is True:
            if cs.get("ready") is True:
                tally.ready += 1
            continue
        reason = _container_reason(state)
        waiting_reason = _get(state, "waiting", "reason")
        if "terminated" in state or (waiting_reason and waiting_reason != "PodInitializing"):
            tally.reason = f"Init:{reason}"
        else:
            tally.reason = f"Init:{i}/{total}"
        return True
    return False


def _container_states(pod: Obj, tally: _PodTally) -> None:
    for cs in reversed(_list(pod, "status", "containerStatuses")):
        tally.count(cs)
        state = _dict(cs, "state")
        reason = _container_reason(state)
        if reason:
            tally.reason = reason
        elif "running" in state and cs.get("ready") is True:
            tally.running = True
            tally.ready += 1
    if tally.reason == "Completed" and tally.running:
        tally.reason = "Running" if _has_condition(pod, "Ready") else "NotReady"


def _pod_tally(pod: Obj) -> _PodTally:
    status = _dict(pod, "status")
    tally = _PodTally(str(status.get("reason") or status.get("phase") or "Pending"))
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
           for c in _list(status, "conditions")):
        tally.reason = "SchedulingGated"
    initializing = _init_reason(pod, tally)
    if not initializing or _has_condition(pod, "Initialized"):
        _container_states(pod, tally)
    if _meta(pod).get("deletionTimestamp"):
        tally.reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return tally


def _pod(obj: Obj, now: datetime) -> list[Cell]:
    tally = _pod_tally(obj)
    total = len(_list(obj, "spec", "containers")) + len(_sidecars(obj))
    restarts = str(tally.restarts)
    if tally.restarts and tally.last_restart:
        restarts += f" ({human_age((now - tally.last_restart).total_seconds())} ago)"
    status, spec = _dict(obj, "status"), _dict(obj, "spec")
    gates = _list(spec, "readinessGates")
    gates_cell = NONE
    if gates:
        wanted = {g.get("conditionType") for g in gates}
        met = sum(1 for c in _list(status, "conditions")
                  if c.get("type") in wanted and c.get("status") == "True")
        gates_cell = f"{met}/{len(gates)}"
    return [_meta(obj).get("name", ""), f"{tally.ready}/{total}", tally.reason, restarts,
            _age_of(obj, now), _or_none(status.get("podIP")), _or_none(spec.get("nodeName")),
            _or_none(status.get("nominatedNodeName")), gates_cell]


def _pod_conditions(obj: Obj) -> list[Obj]:
    phase = _get(obj, "status", "phase")
    if phase in ("Succeeded", "Failed"):
        return [{"type": "Completed", "status": "True"}]
    return []


def _service_external_ip(obj: Obj) -> str:
    spec = _dict(obj, "spec")
    kind = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in _list(spec, "externalIPs")]
    if kind == "ExternalName":
        return str(spec.get("externalName") or NONE)
    if kind == "LoadBalancer":
        ingress = [str(i.get("ip") or i.get("hostname") or "")
                   for i in _list(obj, "status", "loadBalancer", "ingress")]
        found = [a for a in ingress + external if a]
        return ",".join(found) if found else "<pending>"
    return ",".join(external) if external else NONE


def _service_ports(obj: Obj) -> str:
    parts = []
    for port in _list(obj, "spec", "ports"):
        text = str(port.get("port", ""))
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        parts.append(f"{text}/{port.get('protocol') or 'TCP'}")
    return ",".join(parts) or NONE


def _service(obj: Obj, now: datetime) -> list[Cell]:
    spec = _dict(obj, "spec")
    return [_meta(obj).get("name", ""), spec.get("type") or "ClusterIP",
            _or_none(spec.get("clusterIP")), _service_external_ip(obj), _service_ports(obj),
            _age_of(obj, now), format_labels(spec.get("selector"))]


def _configmap(obj: Obj, now: datetime) -> list[Cell]:
    count = len(_dict(obj, "data")) + len(_dict(obj, "binaryData"))
    return [_meta(obj).get("name", ""), count, _age_of(obj, now)]


def _secret(obj: Obj, now: datetime) -> list[Cell]:
    keys = set(_dict(obj, "data")) | set(_dict(obj, "stringData"))
    return [_meta(obj).get("name", ""), obj.get("type") or "Opaque", len(keys),
            _age_of(obj, now)]


def _namespace(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), _get(obj, "status", "phase") or "Active",
            _age_of(obj, now)]


def _service_account(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), len(_list(obj, "secrets")), _age_of(obj, now)]


def _ingress_hosts(obj: Obj) -> str:
    rules = _list(obj, "spec", "rules")
    hosts = [str(r["host"]) for r in rules[:3] if r.get("host")]
    text = ",".join(hosts) or "*"
    return f"{text} + {len(rules) - 3} more..." if len(rules) > 3 else text


def _load_balancer(obj: Obj) -> str:
    return ",".join(str(i.get("ip") or i.get("hostname") or "")
                    for i in _list(obj, "status", "loadBalancer", "ingress"))


def _ingress(obj: Obj, now: datetime) -> list[Cell]:
    ports = "80, 443" if _list(obj, "spec", "tls") else "80"
    return [_meta(obj).get("name", ""), _or_none(_get(obj, "spec", "ingressClassName")),
            _ingress_hosts(obj), _load_balancer(obj), ports, _age_of(obj, now)]


_ACCESS_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
                 "ReadWriteOncePod": "RWOP"}


def _access_modes(modes: list[Any]) -> str:
    return ",".join(_ACCESS_MODES.get(str(m), str(m)) for m in modes)


def _pvc(obj: Obj, now: datetime) -> list[Cell]:
    spec, status = _dict(obj, "spec"), _dict(obj, "status")
    phase = "Terminating" if _meta(obj).get("deletionTimestamp") else status.get("phase", "")
    bound = bool(spec.get("volumeName"))
    capacity = _dict(status, "capacity").get("storage", "") if bound else ""
    modes = _access_modes(_list(status, "accessModes")) if bound else ""
    return [_meta(obj).get("name", ""), phase or "Pending", spec.get("volumeName", ""), capacity,
            modes, _or_none(spec.get("storageClassName")),
            spec.get("volumeAttributesClassName") or "<unset>", _age_of(obj, now),
            spec.get("volumeMode") or "<unset>"]


def _pv(obj: Obj, now: datetime) -> list[Cell]:
    spec, status = _dict(obj, "spec"), _dict(obj, "status")
    claim = _dict(spec, "claimRef")
    phase = "Terminating" if _meta(obj).get("deletionTimestamp") else status.get("phase", "")
    return [_meta(obj).get("name", ""), _dict(spec, "capacity").get("storage", ""),
            _access_modes(_list(spec, "accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), phase,
            f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
            spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason", ""),
            _age_of(obj, now), spec.get("volumeMode") or "<unset>"]


def _lease(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), _get(obj, "spec", "holderIdentity") or "",
            _age_of(obj, now)]


def _event_time(obj: Obj, *keys: str) -> Any:
    for key in keys:
        value = _get(obj, *key.split("."))
        if value:
            return value
    return None


def _event(obj: Obj, now: datetime) -> list[Cell]:
    """Core ``v1`` and ``events.k8s.io/v1`` Events share one printer."""
    modern = "regarding" in obj or "note" in obj
    ref = _dict(obj, "regarding" if modern else "involvedObject")
    source = _dict(obj, "source")
    component = obj.get("reportingController") or source.get("component") or ""
    host = obj.get("reportingInstance") or source.get("host") or ""
    last = _event_time(obj, "series.lastObservedTime", "deprecatedLastTimestamp",
                       "lastTimestamp", "eventTime", "metadata.creationTimestamp")
    first = _event_time(obj, "deprecatedFirstTimestamp", "firstTimestamp", "eventTime",
                        "metadata.creationTimestamp")
    count = (_int(_get(obj, "series", "count")) or _int(obj.get("deprecatedCount"))
             or _int(obj.get("count"), 1))
    return [age(last, now), obj.get("type", ""), obj.get("reason", ""),
            f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}",
            ref.get("fieldPath", ""), ", ".join(p for p in (component, host) if p),
            (obj.get("note") if modern else obj.get("message")) or "", age(first, now),
            str(count), _meta(obj).get("name", "")]


def _binding_subjects(obj: Obj) -> list[Cell]:
    users, groups, accounts = [], [], []
    for s in _list(obj, "subjects"):
        kind = s.get("kind")
        if kind == "User":
            users.append(str(s.get("name", "")))
        elif kind == "Group":
            groups.append(str(s.get("name", "")))
        elif kind == "ServiceAccount":
            accounts.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    return [", ".join(users), ", ".join(groups), ", ".join(accounts)]


def _binding(obj: Obj, now: datetime) -> list[Cell]:
    ref = _dict(obj, "roleRef")
    return [_meta(obj).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}",
            _age_of(obj, now), *_binding_subjects(obj)]


def _node_roles(labels: Obj) -> str:
    roles = {k.split("/", 1)[1] for k in labels
             if k.startswith("node-role.kubernetes.io/") and k.count("/") == 1}
    if labels.get("kubernetes.io/role"):
        roles.add(str(labels["kubernetes.io/role"]))
    return ",".join(sorted(r for r in roles if r)) or NONE


def _node_status(obj: Obj) -> str:
    ready = next((c for c in _list(obj, "status", "conditions") if c.get("type") == "Ready"),
                 None)
    status = "Unknown" if ready is None or ready.get("status") == "Unknown" else (
        "Ready" if ready.get("status") == "True" else "NotReady")
    return status + (",SchedulingDisabled" if _get(obj, "spec", "unschedulable") else "")


def _node_address(obj: Obj, kind: str) -> str:
    found = [str(a.get("address")) for a in _list(obj, "status", "addresses")
             if a.get("type") == kind]
    return found[0] if found else NONE


def _node(obj: Obj, now: datetime) -> list[Cell]:
    info = _dict(obj, "status", "nodeInfo")
    roles = _node_roles(_dict(obj, "metadata", "labels"))
    return [_meta(obj).get("name", ""), _node_status(obj), roles, _age_of(obj, now),
            info.get("kubeletVersion", ""),
            _node_address(obj, "InternalIP"), _node_address(obj, "ExternalIP"),
            info.get("osImage") or UNKNOWN, info.get("kernelVersion") or UNKNOWN,
            info.get("containerRuntimeVersion") or UNKNOWN]


def _more(items: list[str], limit: int = 3) -> str:
    if not items:
        return NONE
    text = ",".join(items[:limit])
    return f"{text} + {len(items) - limit} more..." if len(items) > limit else text


def _endpoints(obj: Obj, now: datetime) -> list[Cell]:
    found = []
    for subset in _list(obj, "subsets"):
        ports = [p.get("port") for p in _list(subset, "ports")] or [None]
        for address in _list(subset, "addresses"):
            for port in ports:
                ip = str(address.get("ip", ""))
                found.append(f"{ip}:{port}" if port is not None else ip)
    return [_meta(obj).get("name", ""), _more(found), _age_of(obj, now)]


def _endpoint_slice(obj: Obj, now: datetime) -> list[Cell]:
    ports = ",".join(str(p.get("port")) for p in _list(obj, "ports") if p.get("port"))
    addresses = [str(a) for e in _list(obj, "endpoints") for a in _list(e, "addresses")]
    return [_meta(obj).get("name", ""), obj.get("addressType", ""), ports or "<unset>",
            "<unset>" if not addresses else _more(addresses), _age_of(obj, now)]


def _network_policy(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), format_selector(_get(obj, "spec", "podSelector")),
            _age_of(obj, now)]


def _hpa_targets(obj: Obj) -> str:
    current = {(_get(m, "resource", "name")): m for m in _list(obj, "status", "currentMetrics")}
    parts = []
    for metric in _list(obj, "spec", "metrics"):
        resource = _dict(metric, "resource")
        target = _dict(resource, "target")
        if metric.get("type") != "Resource" or "averageUtilization" not in target:
            parts.append(f"{UNKNOWN}/{target.get('averageValue') or target.get('value') or ''}")
            continue
        now_value = _get(current.get(resource.get("name")), "resource", "current",
                         "averageUtilization")
        shown = f"{now_value}%" if isinstance(now_value, int) else UNKNOWN
        parts.append(f"{resource.get('name')}: {shown}/{target['averageUtilization']}%")
    return ", ".join(parts) or NONE


def _hpa(obj: Obj, now: datetime) -> list[Cell]:
    spec = _dict(obj, "spec")
    ref = _dict(spec, "scaleTargetRef")
    return [_meta(obj).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}",
            _hpa_targets(obj), _int(spec.get("minReplicas"), 1), _int(spec.get("maxReplicas")),
            _int(_get(obj, "status", "currentReplicas")), _age_of(obj, now)]


def _pdb(obj: Obj, now: datetime) -> list[Cell]:
    spec = _dict(obj, "spec")
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [_meta(obj).get("name", ""), "N/A" if low is None else str(low),
            "N/A" if high is None else str(high),
            _int(_get(obj, "status", "disruptionsAllowed")), _age_of(obj, now)]


def _quota(obj: Obj, now: datetime) -> list[Cell]:
    hard, used = _dict(obj, "status", "hard"), _dict(obj, "status", "used")
    requests: list[str] = []
    limits: list[str] = []
    for name in sorted(hard):
        text = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.startswith("limits.") else requests).append(text)
    return [_meta(obj).get("name", ""), _age_of(obj, now), ", ".join(requests),
            ", ".join(limits)]


def _webhooks(obj: Obj, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), len(_list(obj, "webhooks")), _age_of(obj, now)]


_WORKLOAD_WIDE = (_CONTAINERS, _IMAGES, _SELECTOR)
_BINDING_WIDE = (_c("Users", "Users in the binding.", priority=1),
                 _c("Groups", "Groups in the binding.", priority=1),
                 _c("ServiceAccounts", "Service accounts in the binding.", priority=1))
_EVENT = Printer((
    _c("Last Seen", "Time since the event was last seen."),
    _c("Type", "Type of the event (Normal, Warning)."),
    _c("Reason", "Short machine-readable reason for the event."),
    _c("Object", "The object the event is about."),
    _c("Subobject", "The part of the object the event is about.", priority=1),
    _c("Source", "The component that reported the event.", priority=1),
    _c("Message", "Human-readable description of the event."),
    _c("First Seen", "Time since the event was first seen.", priority=1),
    _c("Count", "How many times the event occurred.", priority=1),
    Column("Name", format="name", priority=1, description=_NAME.description),
), _event)
_ROLE = Printer((_NAME, _CREATED), _created)
_BINDING = Printer((_NAME, _c("Role", "The role the binding grants."), _AGE, *_BINDING_WIDE),
                   _binding)
_WEBHOOKS = Printer((_NAME, _c("Webhooks", "Number of webhooks.", "integer"), _AGE), _webhooks)

PRINTERS: dict[tuple[str, str], Printer] = {
    ("apps", "Deployment"): Printer((
        _NAME, _c("Ready", "Ready replicas out of desired."),
        _c("Up-to-date", "Replicas updated to the latest template."),
        _c("Available", "Replicas available to serve."), _AGE, *_WORKLOAD_WIDE), _deployment),
    ("apps", "StatefulSet"): Printer((
        _NAME, _c("Ready", "Ready replicas out of desired."), _AGE, _CONTAINERS, _IMAGES),
        _statefulset),
    ("apps", "ReplicaSet"): Printer((
        _NAME, _c("Desired", "Desired replicas.", "integer"),
        _c("Current", "Current replicas.", "integer"),
        _c("Ready", "Ready replicas.", "integer"), _AGE, *_WORKLOAD_WIDE), _replicaset),
    ("apps", "DaemonSet"): Printer((
        _NAME, _c("Desired", "Nodes that should run the pod.", "integer"),
        _c("Current", "Nodes running the pod.", "integer"),
        _c("Ready", "Nodes with the pod ready.", "integer"),
        _c("Up-to-date", "Nodes running the latest template.", "integer"),
        _c("Available", "Nodes with the pod available.", "integer"),
        _c("Node Selector", "Which nodes the pod may run on."), _AGE, *_WORKLOAD_WIDE),
        _daemonset),
    ("batch", "Job"): Printer((
        _NAME, _c("Status", "Status of the job."),
        _c("Completions", "Succeeded pods out of those wanted."),
        _c("Duration", "Time the job took, or has been running."), _AGE, *_WORKLOAD_WIDE),
        _job),
    ("batch", "CronJob"): Printer((
        _NAME, _c("Schedule", "The schedule in cron format."),
        _c("Timezone", "Time zone of the schedule."),
        _c("Suspend", "Whether new runs are suspended.", "boolean"),
        _c("Active", "Jobs running now.", "integer"),
        _c("Last Schedule", "Time since the last run was scheduled."), _AGE,
        *_WORKLOAD_WIDE), _cronjob),
    ("", "Pod"): Printer((
        _NAME, _c("Ready", "Ready containers out of all containers."),
        _c("Status", "Aggregate status of the pod's containers."),
        _c("Restarts", "Container restarts, and how long ago the last one was."), _AGE,
        _c("IP", "IP address of the pod.", priority=1),
        _c("Node", "Node the pod is scheduled on.", priority=1),
        _c("Nominated Node", "Node nominated by preemption.", priority=1),
        _c("Readiness Gates", "Readiness gates met out of declared.", priority=1)), _pod),
    ("", "Service"): Printer((
        _NAME, _c("Type", "How the service is exposed."),
        _c("Cluster-IP", "Cluster IP of the service."),
        _c("External-IP", "External addresses of the service."),
        _c("Port(s)", "Ports the service exposes."), _AGE,
        _c("Selector", "Label query selecting the service's pods.", priority=1)), _service),
    ("", "ConfigMap"): Printer((_NAME, _c("Data", "Number of keys.", "integer"), _AGE),
                               _configmap),
    ("", "Secret"): Printer((_NAME, _c("Type", "Type of the secret."),
                             _c("Data", "Number of keys.", "integer"), _AGE), _secret),
    ("", "Namespace"): Printer((_NAME, _c("Status", "Phase of the namespace."), _AGE),
                               _namespace),
    ("", "ServiceAccount"): Printer((_NAME, _c("Secrets", "Number of secrets.", "integer"),
                                     _AGE), _service_account),
    ("", "PersistentVolumeClaim"): Printer((
        _NAME, _c("Status", "Phase of the claim."), _c("Volume", "Bound volume."),
        _c("Capacity", "Capacity of the bound volume."),
        _c("Access Modes", "Access modes of the bound volume."),
        _c("StorageClass", "Storage class requested."),
        _c("VolumeAttributesClass", "Volume attributes class requested."), _AGE,
        _c("VolumeMode", "Volume mode requested.", priority=1)), _pvc),
    ("", "PersistentVolume"): Printer((
        _NAME, _c("Capacity", "Capacity of the volume."),
        _c("Access Modes", "Access modes of the volume."),
        _c("Reclaim Policy", "What happens when the claim is released."),
        _c("Status", "Phase of the volume."), _c("Claim", "Claim bound to the volume."),
        _c("StorageClass", "Storage class of the volume."),
        _c("VolumeAttributesClass", "Volume attributes class of the volume."),
        _c("Reason", "Reason for the phase."), _AGE,
        _c("VolumeMode", "Volume mode.", priority=1)), _pv),
    ("", "Event"): _EVENT,
    ("events.k8s.io", "Event"): _EVENT,
    ("", "Node"): Printer((
        _NAME, _c("Status", "Readiness of the node."), _c("Roles", "Roles of the node."), _AGE,
        _c("Version", "Kubelet version."),
        _c("Internal-IP", "Internal address.", priority=1),
        _c("External-IP", "External address.", priority=1),
        _c("OS-Image", "Operating system image.", priority=1),
        _c("Kernel-Version", "Kernel version.", priority=1),
        _c("Container-Runtime", "Container runtime version.", priority=1)), _node),
    ("", "Endpoints"): Printer((_NAME, _c("Endpoints", "Addresses and ports."), _AGE),
                               _endpoints),
    ("discovery.k8s.io", "EndpointSlice"): Printer((
        _NAME, _c("AddressType", "Address family of the endpoints."),
        _c("Ports", "Ports of the slice."), _c("Endpoints", "Addresses of the endpoints."),
        _AGE), _endpoint_slice),
    ("", "ResourceQuota"): Printer((
        _NAME, _AGE, _c("Request", "Requests used out of hard limits."),
        _c("Limit", "Limits used out of hard limits.")), _quota),
    ("", "LimitRange"): Printer((_NAME, _CREATED), _created),
    ("networking.k8s.io", "Ingress"): Printer((
        _NAME, _c("Class", "Ingress class."), _c("Hosts", "Hosts routed."),
        _c("Address", "Load balancer addresses."), _c("Ports", "Ports served."), _AGE),
        _ingress),
    ("networking.k8s.io", "NetworkPolicy"): Printer((
        _NAME, _c("Pod-Selector", "Pods the policy applies to."), _AGE), _network_policy),
    ("autoscaling", "HorizontalPodAutoscaler"): Printer((
        _NAME, _c("Reference", "The scaled object."),
        _c("Targets", "Current and target metric values."),
        _c("MinPods", "Lower replica limit.", "integer"),
        _c("MaxPods", "Upper replica limit.", "integer"),
        _c("Replicas", "Current replicas.", "integer"), _AGE), _hpa),
    ("policy", "PodDisruptionBudget"): Printer((
        _NAME, _c("Min Available", "Pods that must stay available."),
        _c("Max Unavailable", "Pods that may be unavailable."),
        _c("Allowed Disruptions", "Disruptions allowed now.", "integer"), _AGE), _pdb),
    ("coordination.k8s.io", "Lease"): Printer((_NAME, _c("Holder", "Current lease holder."),
                                               _AGE), _lease),
    ("rbac.authorization.k8s.io", "Role"): _ROLE,
    ("rbac.authorization.k8s.io", "ClusterRole"): _ROLE,
    ("rbac.authorization.k8s.io", "RoleBinding"): _BINDING,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _BINDING,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): Printer((_NAME, _CREATED), _created),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): _WEBHOOKS,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): _WEBHOOKS,
}

# ---------------------------------------------------------------------------------------
# JSONPath for additionalPrinterColumns

_STEP = re.compile(r"""
    \.\.(?P<deep>[A-Za-z0-9_$-]+)         # ..name (recursive)
  | \.(?P<field>[A-Za-z0-9_$/-]+)         # .name
  | \[(?P<quoted>'[^']*'|"[^"]*")\]       # ['name']
  | \[(?P<index>-?\d+)\]                  # [0], [-1]
  | \[(?P<all>\*)\]                       # [*]
  | \.(?P<star>\*)                        # .*
  | \[\?\((?P<filter>[^)]*)\)\]           # [?(@.type=="Ready")]
""", re.VERBOSE)
_FILTER = re.compile(r"\s*@(?P<path>[^\s=!<>]*)\s*(?:(?P<op>==|!=|<=|>=|<|>)\s*"
                     r"(?P<value>.+?))?\s*$")

Step = tuple[str, Any]


class JsonPathError(ValueError):
    """A JSONPath outside the subset CRD printer columns use."""


@lru_cache(maxsize=512)
def compile_jsonpath(expression: str) -> tuple[Step, ...]:
    """Parse ``.a.b``, ``{.a[0].b}``, ``.a[*].b``, ``.a[?(@.type=="Ready")].status``."""
    text = expression.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    text = text.removeprefix("$")
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise JsonPathError(f"unrecognized JSONPath {expression!r} at {text[pos:]!r}")
        steps.append(_step(match))
        pos = match.end()
    return tuple(steps)


def _step(match: re.Match[str]) -> Step:
    if match["deep"]:
        return ("deep", match["deep"])
    if match["field"]:
        return ("field", match["field"])
    if match["quoted"]:
        return ("field", match["quoted"][1:-1])
    if match["index"]:
        return ("index", int(match["index"]))
    if match["all"] or match["star"]:
        return ("all", None)
    return ("filter", _filter(match["filter"]))


def _filter(text: str) -> tuple[tuple[Step, ...], str, Any]:
    match = _FILTER.match(text)
    if match is None:
        raise JsonPathError(f"unrecognized filter {text!r}")
    path = compile_jsonpath(match["path"]) if match["path"] else ()
    return path, match["op"] or "", _literal(match["value"]) if match["op"] else None


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return json.loads(text)
    except ValueError:
        return text


def find(value: Any, steps: Sequence[Step]) -> list[Any]:
    """Every value ``steps`` select in ``value`` (missing keys select nothing)."""
    current = [value]
    for kind, arg in steps:
        current = [found for item in current for found in _apply(kind, arg, item)]
    return current


def _apply(kind: str, arg: Any, item: Any) -> list[Any]:
    if kind == "field":
        return [item[arg]] if isinstance(item, dict) and arg in item else []
    if kind == "index":
        ok = isinstance(item, list) and -len(item) <= arg < len(item)
        return [item[arg]] if ok else []
    if kind == "all":
        return list(item.values()) if isinstance(item, dict) else (
            list(item) if isinstance(item, list) else [])
    if kind == "deep":
        return _deep(item, arg)
    if not isinstance(item, list):
        return []
    return [element for element in item if _matches(element, *arg)]


def _deep(item: Any, name: str) -> list[Any]:
    found = []
    if isinstance(item, dict):
        if name in item:
            found.append(item[name])
        children: list[Any] = list(item.values())
    else:
        children = list(item) if isinstance(item, list) else []
    for child in children:
        found.extend(_deep(child, name))
    return found


def _matches(element: Any, path: tuple[Step, ...], op: str, want: Any) -> bool:
    values = find(element, path)
    if not values:
        return False
    if not op:
        return True
    got = values[0]
    if op in ("==", "!="):
        equal = got == want and isinstance(got, bool) == isinstance(want, bool)
        return equal == (op == "==")
    if not (_is_number(got) and _is_number(want)):
        return False
    checks = {"<": got < want, "<=": got <= want, ">": got > want, ">=": got >= want}
    return bool(checks[op])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _go_text(value: Any) -> str:
    """A value as the API server's JSONPath printer renders it in a string column."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return "null" if value is None else str(value)


def custom_cell(value: Any, type_: str, now: datetime) -> Cell:
    """A printer-column cell: the value converted to the column's declared type."""
    if value is None:
        return None
    number = _is_number(value)
    if type_ == "string":
        return _go_text(value)
    if type_ == "integer":
        return int(value) if number else None
    if type_ == "number":
        return float(value) if number else None
    if type_ == "boolean":
        return value if isinstance(value, bool) else None
    if type_ == "date" and isinstance(value, str):
        return age(value, now) if parse_timestamp(value) else "<invalid>"
    return None


def _custom_printer(rt: ResourceType) -> Printer:
    columns = rt.printer_columns or ({
        "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
        "description": _AGE.description},)
    defs = tuple(Column(str(c.get("name", "")), str(c.get("type", "string")),
                        str(c.get("format", "")),
                        str(c.get("description") or "Custom resource definition column (in "
                            f"JSONPath format): {c.get('jsonPath', '')}"),
                        _int(c.get("priority")))
                 for c in columns)
    paths = tuple(str(c.get("jsonPath", "")) for c in columns)

    def cells(obj: Obj, now: datetime) -> list[Cell]:
        out: list[Cell] = [_meta(obj).get("name", "")]
        for path, column in zip(paths, defs, strict=True):
            try:
                found = find(obj, compile_jsonpath(path))
            except JsonPathError:
                found = []
            out.append(custom_cell(found[0], column.type, now) if found else None)
        return out

    return Printer((_NAME, *defs), cells)


def printer_for(rt: ResourceType) -> Printer:
    """The built-in printer of a kind, or its CRD's columns (NAME + AGE by default)."""
    if rt.printer_columns:
        return _custom_printer(rt)
    builtin = PRINTERS.get((rt.group, rt.kind))
    return builtin if builtin is not None else _custom_printer(rt)


# ---------------------------------------------------------------------------------------
# The Table


def _row_object(obj: Obj, include_object: str, table_version: str) -> Obj | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{table_version}",
            "metadata": _meta(obj)}


_LIST_META_FIELDS = ("resourceVersion", "continue", "remainingItemCount", "selfLink")


def to_table(rt: ResourceType, objects: list[Obj], *, now: datetime,
             include_object: str = "Metadata", list_metadata: Obj | None = None,
             version: str = "v1", request: TableRequest | None = None,
             no_headers: bool = False) -> Obj:
    """The ``meta.k8s.io/<version>`` Table of ``objects`` (all of type ``rt``).

    ``include_object`` picks each row's ``object``: ``Metadata`` (a PartialObjectMetadata),
    ``Object`` (the object itself) or ``None``; ``request`` (from :func:`table_request`),
    when given, supplies both it and ``version``. The ListMeta fields of ``list_metadata``
    (resourceVersion, continue, remainingItemCount) become the Table's metadata: pass a
    list's metadata, or for a single GET the object's metadata. ``no_headers`` leaves
    ``columnDefinitions`` empty (for watch events after the first, if wanted).
    """
    if request is not None:
        include_object, version = request.include_object, request.version
    if include_object not in INCLUDE_OBJECT:
        raise ValueError(f"includeObject: unsupported value {include_object!r}")
    printer = printer_for(rt)
    rows = []
    for obj in objects:
        row: Obj = {"cells": printer.cells(obj, now)}
        if rt.group == "" and rt.kind == "Pod" and _pod_conditions(obj):
            row["conditions"] = _pod_conditions(obj)
        row["object"] = _row_object(obj, include_object, version)
        rows.append(row)
    meta = {k: v for k, v in (list_metadata or {}).items()
            if k in _LIST_META_FIELDS and v not in (None, "")}
    return {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": meta,
            "columnDefinitions": [] if no_headers else [c.definition() for c in printer.columns],
            "rows": rows}

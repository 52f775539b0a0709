"""Defaults the API server fills into built-in kinds.

Mostly top-level fields of a kind's ``spec`` (``kubectl rollout status`` refuses a
StatefulSet or DaemonSet without an update strategy), plus the ports' ``protocol`` (a key of
the ports list: server-side apply needs it), a Service port's ``targetPort``, and a Secret's
``type`` (Opaque) with its ``stringData`` folded into ``data`` (base64), which is never
stored: a client that writes ``stringData`` reads ``data`` back. Clients
that lay their desired object over the live one (the engine) keep these: maps merge, and
items of an unchanged list are overlaid one by one.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator

from orkestra.cluster.data import clone
from orkestra.kubeobjects import Json, JsonDict, JsonObject, KubeObject

_SPEC_DEFAULTS: dict[tuple[str, str], JsonObject] = {
    ("apps", "Deployment"): {
        "replicas": 1,
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
        },
    },
    ("apps", "StatefulSet"): {
        "replicas": 1,
        "revisionHistoryLimit": 10,
        "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
    },
    ("apps", "DaemonSet"): {
        "revisionHistoryLimit": 10,
        "updateStrategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
        },
    },
    ("apps", "ReplicaSet"): {"replicas": 1},
    ("batch", "Job"): {
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
    },
    ("batch", "CronJob"): {
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
    },
    ("", "Service"): {
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
    },
    ("", "Namespace"): {"finalizers": ["kubernetes"]},
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): {"failurePolicy": "Fail"},
}


def ip_pool() -> Iterator[str]:
    """Cluster IPs handed to Services, in order (10.96.0.10 onwards)."""
    return (f"10.96.{n // 256}.{n % 256}" for n in itertools.count(10) if n % 256)


def apply_defaults(group: str, obj: KubeObject, ips: Iterator[str]) -> None:
    """Fill in the API server's defaults (in place, on a copy the store owns)."""
    kind = str(obj.get("kind", ""))
    if (group, kind) == ("", "Secret"):
        _secret(obj)
        return
    defaults = _SPEC_DEFAULTS.get((group, kind))
    if defaults is None:
        return
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    _fill(spec, defaults)
    if (group, kind) == ("batch", "Job"):
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
    elif (group, kind) == ("", "Service"):
        _service(spec, ips)
    pod = _pod_spec(kind, spec)
    if pod is not None:
        for key in ("containers", "initContainers", "ephemeralContainers"):
            containers = pod.get(key)
            for container in containers if isinstance(containers, list) else ():
                ports = container.get("ports") if isinstance(container, dict) else None
                for port in ports if isinstance(ports, list) else ():
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")


def _secret(obj: KubeObject) -> None:
    obj.setdefault("type", "Opaque")
    plain = obj.pop("stringData", None)
    if isinstance(plain, dict) and plain:
        data = obj.get("data")
        obj["data"] = {
            **(data if isinstance(data, dict) else {}),
            **{k: base64.b64encode(str(v).encode()).decode("ascii") for k, v in plain.items()},
        }


def _fill(target: JsonDict, defaults: JsonObject) -> None:
    """Missing keys from ``defaults``, into maps too (an empty ``strategy: {}`` becomes a
    RollingUpdate); a rolling-update block only goes with the RollingUpdate type."""
    for key, value in defaults.items():
        if key == "rollingUpdate" and target.get("type", "RollingUpdate") != "RollingUpdate":
            continue
        if key not in target:
            target[key] = clone(value)
        elif isinstance(value, dict) and isinstance(current := target[key], dict):
            _fill(current, value)


_TEMPLATE_PATHS = {
    "Deployment": ("template",),
    "StatefulSet": ("template",),
    "DaemonSet": ("template",),
    "ReplicaSet": ("template",),
    "Job": ("template",),
    "CronJob": ("jobTemplate", "spec", "template"),
    "Pod": (),
}


def _pod_spec(kind: str, spec: JsonDict) -> JsonDict | None:
    path = _TEMPLATE_PATHS.get(kind)
    if path is None:
        return None
    node: Json = spec
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    if path:
        node = node.get("spec") if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _service(spec: JsonDict, ips: Iterator[str]) -> None:
    ports = spec.get("ports")
    for port in ports if isinstance(ports, list) else ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])
    if spec.get("type") == "ExternalName":
        return
    if "clusterIP" not in spec:
        spec["clusterIP"] = next(ips)
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])

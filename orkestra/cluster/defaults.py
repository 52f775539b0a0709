"""Defaults the API server fills into built-in kinds.

Only top-level fields of a kind's ``spec`` are defaulted, never fields inside list items:
a client that lays its desired object over the live one (as the engine does) keeps map
fields it did not set, but replaces lists whole, so a default inside a list would look like
drift on every reconcile. The defaults chosen are the ones clients read back:
``kubectl rollout status`` refuses a StatefulSet or DaemonSet without an update strategy.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from orkestra.cluster.data import clone

Obj = dict[str, Any]

_SPEC_DEFAULTS: dict[tuple[str, str], Obj] = {
    ("apps", "Deployment"): {
        "replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}},
    ("apps", "StatefulSet"): {
        "replicas": 1, "revisionHistoryLimit": 10, "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain",
                                                 "whenScaled": "Retain"}},
    ("apps", "DaemonSet"): {
        "revisionHistoryLimit": 10,
        "updateStrategy": {"type": "RollingUpdate",
                           "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
    ("apps", "ReplicaSet"): {"replicas": 1},
    ("batch", "Job"): {"backoffLimit": 6, "completionMode": "NonIndexed", "suspend": False,
                       "podReplacementPolicy": "TerminatingOrFailed"},
    ("batch", "CronJob"): {"concurrencyPolicy": "Allow", "suspend": False,
                           "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1},
    ("", "Service"): {"type": "ClusterIP", "sessionAffinity": "None",
                      "internalTrafficPolicy": "Cluster", "ipFamilyPolicy": "SingleStack"},
    ("", "Namespace"): {"finalizers": ["kubernetes"]},
}


def ip_pool() -> Iterator[str]:
    """Cluster IPs handed to Services, in order (10.96.0.10 onwards)."""
    return (f"10.96.{n // 256}.{n % 256}" for n in itertools.count(10) if n % 256)


def apply_defaults(group: str, obj: Obj, ips: Iterator[str]) -> None:
    """Fill in the API server's defaults (in place, on a copy the store owns)."""
    kind = str(obj.get("kind", ""))
    defaults = _SPEC_DEFAULTS.get((group, kind))
    if defaults is None:
        return
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    for key, value in defaults.items():
        if key not in spec:
            spec[key] = clone(value)
    if (group, kind) == ("batch", "Job"):
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
    elif (group, kind) == ("", "Service"):
        _service(spec, ips)


def _service(spec: Obj, ips: Iterator[str]) -> None:
    if spec.get("type") == "ExternalName":
        return
    if "clusterIP" not in spec:
        spec["clusterIP"] = next(ips)
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])

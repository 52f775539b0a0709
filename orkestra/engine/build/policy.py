"""Storage (PersistentVolumeClaims, PersistentVolumes) and policy objects
(HorizontalPodAutoscalers, PodDisruptionBudgets, ResourceQuotas, LimitRanges)."""

from __future__ import annotations

from typing import Literal

from orkestra.engine.build.base import Build, builder
from orkestra.engine.build.services import default_selector
from orkestra.engine.build.shapes import (
    HorizontalPodAutoscalerSpec,
    MetricSpec,
    PersistentVolumeClaimSpec,
    PersistentVolumeSpec,
)
from orkestra.kubeobjects import JsonDict, KubeObject


@builder("persistentVolumeClaims")
def claim(b: Build) -> list[KubeObject]:
    item = b.item
    spec: PersistentVolumeClaimSpec = {
        "accessModes": b.fields.strings(
            item.get("accessModes") or ["ReadWriteOnce"], "accessModes"
        ),
        "resources": {
            "requests": {"storage": b.fields.text(item.get("storageSize"), "storageSize", "1Gi")}
        },
    }
    if item.get("storageClass"):
        spec["storageClassName"] = b.fields.text(item["storageClass"], "storageClass")
    if item.get("volumeMode"):
        spec["volumeMode"] = b.fields.text(item["volumeMode"], "volumeMode")
    return [b.object(b.name(), {"spec": spec})]


@builder("persistentVolumes")
def volume(b: Build) -> list[KubeObject]:
    item = b.item
    spec: PersistentVolumeSpec = {
        "capacity": {"storage": b.fields.text(item.get("storageSize"), "storageSize", "1Gi")},
        "accessModes": b.fields.strings(
            item.get("accessModes") or ["ReadWriteOnce"], "accessModes"
        ),
        "persistentVolumeReclaimPolicy": b.fields.text(
            item.get("reclaimPolicy"), "reclaimPolicy", "Retain"
        ),
    }
    if item.get("storageClass"):
        spec["storageClassName"] = b.fields.text(item["storageClass"], "storageClass")
    if item.get("hostPath"):
        spec["hostPath"] = {"path": b.fields.text(item["hostPath"], "hostPath")}
    return [b.object(b.name(), {"spec": spec})]


# resource -> the declaration's target utilization of it
_UTILIZATION: tuple[
    tuple[str, Literal["targetCPUUtilizationPercentage", "targetMemoryUtilizationPercentage"]],
    ...,
] = (("cpu", "targetCPUUtilizationPercentage"), ("memory", "targetMemoryUtilizationPercentage"))


@builder("hpa")
def autoscaler(b: Build) -> list[KubeObject]:
    item = b.item
    ref = item.get("scaleTargetRef") or {}
    target_name = b.workload[0] if b.workload is not None else b.owner.name
    spec: HorizontalPodAutoscalerSpec = {
        "scaleTargetRef": {
            "apiVersion": b.fields.text(
                ref.get("apiVersion"), "scaleTargetRef.apiVersion", "apps/v1"
            ),
            "kind": b.fields.text(ref.get("kind"), "scaleTargetRef.kind", "Deployment"),
            "name": b.fields.text(ref.get("name"), "scaleTargetRef.name", target_name),
        },
        "minReplicas": b.fields.integer(item.get("minReplicas"), "minReplicas", 1),
        "maxReplicas": b.fields.integer(item.get("maxReplicas"), "maxReplicas", 10),
    }
    metrics: list[MetricSpec] = []
    for resource, key in _UTILIZATION:
        if item.get(key) is not None:
            metrics.append(
                {
                    "type": "Resource",
                    "resource": {
                        "name": resource,
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": b.fields.integer(item[key], key),
                        },
                    },
                }
            )
    if metrics:
        spec["metrics"] = metrics
    behavior = b.profiled("hpa", item.get("behavior"), "behavior")
    if behavior:
        spec["behavior"] = behavior
    return [b.object(b.name(), {"spec": spec})]


@builder("pdb")
def disruption_budget(b: Build) -> list[KubeObject]:
    item = b.item
    spec: JsonDict = {}  # with the profile's values: JSON
    for key in ("minAvailable", "maxUnavailable"):
        if item.get(key) is not None:
            spec[key] = b.fields.int_or_percent(item[key], key)
    if not spec:
        spec["minAvailable"] = 1
    behavior = b.profiled("pdb", item.get("behavior"), "behavior")
    if behavior:
        spec.update(behavior)
    selector = (
        b.fields.string_map(item["selector"], "selector")
        if item.get("selector")
        else default_selector(b)
    )
    spec["selector"] = {"matchLabels": selector}
    return [b.object(b.name(), {"spec": spec})]


@builder("resourceQuotas")
def quota(b: Build) -> list[KubeObject]:
    spec = (
        b.profile("resourceQuotas", b.item["profile"], "profile") if b.item.get("profile") else {}
    )
    if b.item.get("hard"):
        spec["hard"] = b.fields.string_map(b.item["hard"], "hard")
    return [b.object(b.name(), {"spec": spec})]


@builder("limitRanges")
def limit_range(b: Build) -> list[KubeObject]:
    spec = b.profile("limitRanges", b.item["profile"], "profile") if b.item.get("profile") else {}
    if b.item.get("limits"):
        spec["limits"] = b.fields.tree(b.item["limits"], "limits")
    return [b.object(b.name(), {"spec": spec})]

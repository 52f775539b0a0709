"""The parts of Kubernetes objects the builders make (a subset of each API type: the keys
Orkestra sets). A spec that starts from a profile (network policies, PDBs, quotas, limit
ranges) holds whatever the profile holds, so it is built as JSON instead. So do the trees a
user writes that the builders pass on unread (an env var's ``valueFrom``, volumes, volume
mounts): :mod:`orkestra.apiserver.specs` types the same API types field by field, as the
embedded kubelet reads them. The shapes both sides use alike are in
:mod:`orkestra.kubeobjects`."""

# No ``from __future__ import annotations`` here: a TypedDict compiles every string
# annotation into a ForwardRef when its class is made, which doubles this module's import
# time (measured); every command that loads patterns imports it.

from collections.abc import Mapping
from typing import TypedDict, cast

from orkestra.kubeobjects import (
    ContainerPort,
    Json,
    JsonDict,
    KubeObject,
    LabelSelector,
    ObjectMeta,
    PolicyRule,
    RoleRef,
    Subject,
)

# maxSurge / maxUnavailable: a count or a percentage
IntOrPercent = int | str | None


class LocalObjectReference(TypedDict):
    name: str


# -- pods ------------------------------------------------------------------------------


class EnvVar(TypedDict, total=False):
    name: str
    value: str
    valueFrom: Json


class Container(TypedDict, total=False):
    name: str
    image: str
    ports: list[ContainerPort]
    command: list[str]
    args: list[str]
    workingDir: str
    env: list[EnvVar]
    envFrom: list[dict[str, LocalObjectReference]]  # configMapRef or secretRef
    resources: JsonDict
    securityContext: JsonDict
    startupProbe: JsonDict
    livenessProbe: JsonDict
    readinessProbe: JsonDict
    volumeMounts: list[Json]


class PodSpec(TypedDict, total=False):
    containers: list[Container]
    imagePullSecrets: list[LocalObjectReference]
    serviceAccountName: str
    nodeSelector: dict[str, str]
    volumes: list[Json]
    securityContext: JsonDict
    restartPolicy: str


class PodTemplateSpec(TypedDict):
    metadata: ObjectMeta
    spec: PodSpec


# -- workloads -------------------------------------------------------------------------


class UpdateStrategy(TypedDict, total=False):
    type: str
    rollingUpdate: dict[str, IntOrPercent]


class DeploymentSpec(TypedDict, total=False):
    replicas: int
    selector: LabelSelector
    strategy: UpdateStrategy
    template: PodTemplateSpec


class ResourceRequirements(TypedDict, total=False):
    requests: dict[str, str]


class PersistentVolumeClaimSpec(TypedDict, total=False):
    accessModes: list[str]
    resources: ResourceRequirements
    storageClassName: str
    volumeMode: str


class PersistentVolumeClaimTemplate(TypedDict):
    metadata: ObjectMeta
    spec: PersistentVolumeClaimSpec


class StatefulSetSpec(TypedDict, total=False):
    replicas: int
    serviceName: str
    selector: LabelSelector
    template: PodTemplateSpec
    updateStrategy: UpdateStrategy
    volumeClaimTemplates: list[PersistentVolumeClaimTemplate]


class JobSpec(TypedDict, total=False):
    backoffLimit: int | None  # None: a template rendered empty
    template: PodTemplateSpec


class JobTemplateSpec(TypedDict):
    metadata: ObjectMeta
    spec: JobSpec


class CronJobSpec(TypedDict, total=False):
    schedule: str
    jobTemplate: JobTemplateSpec
    successfulJobsHistoryLimit: int
    failedJobsHistoryLimit: int
    concurrencyPolicy: str
    suspend: bool
    startingDeadlineSeconds: int | None


# -- services and ingresses ------------------------------------------------------------


class ServiceBackendPort(TypedDict):
    number: int


class IngressServiceBackend(TypedDict):
    name: str
    port: ServiceBackendPort


class IngressBackend(TypedDict):
    service: IngressServiceBackend


class HTTPIngressPath(TypedDict):
    backend: IngressBackend
    path: str
    pathType: str


class HTTPIngressRuleValue(TypedDict):
    paths: list[HTTPIngressPath]


class IngressRule(TypedDict, total=False):
    host: str
    http: HTTPIngressRuleValue


class IngressTLS(TypedDict):
    hosts: list[str]
    secretName: str


class IngressSpec(TypedDict, total=False):
    rules: list[IngressRule]
    ingressClassName: str
    tls: list[IngressTLS]


# -- storage and scaling ---------------------------------------------------------------


class HostPathVolumeSource(TypedDict):
    path: str


class PersistentVolumeSpec(TypedDict, total=False):
    capacity: dict[str, str]
    accessModes: list[str]
    persistentVolumeReclaimPolicy: str
    storageClassName: str
    hostPath: HostPathVolumeSource


class CrossVersionObjectReference(TypedDict):
    apiVersion: str
    kind: str
    name: str


class MetricTarget(TypedDict):
    type: str
    averageUtilization: int | None


class ResourceMetricSource(TypedDict):
    name: str
    target: MetricTarget


class MetricSpec(TypedDict):
    type: str
    resource: ResourceMetricSource


class HorizontalPodAutoscalerSpec(TypedDict, total=False):
    scaleTargetRef: CrossVersionObjectReference
    minReplicas: int
    maxReplicas: int
    metrics: list[MetricSpec]
    behavior: JsonDict


# -- whole objects ---------------------------------------------------------------------


class ObjectBody(TypedDict, total=False):
    """What a builder puts beside ``apiVersion``, ``kind`` and ``metadata``."""

    spec: Mapping[str, object]  # a spec shape above, or JSON built from a profile
    data: dict[str, str]
    type: str
    rules: list[PolicyRule]
    roleRef: RoleRef
    subjects: list[Subject]
    automountServiceAccountToken: bool  # ServiceAccount
    imagePullSecrets: list[LocalObjectReference]  # ServiceAccount


# The two helpers below are where the shapes above become JSON: their values are all
# JSON, but mypy widens a TypedDict only to ``Mapping[str, object]``.


def kube_object(
    api_version: str, kind: str, metadata: ObjectMeta, body: Mapping[str, object]
) -> KubeObject:
    """The object: the envelope, then ``body``'s keys in their order."""
    return cast(KubeObject, {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body})

"""The parts of Pods, workloads and Services the local kubelet reads.

This module owns the shapes, under their Kubernetes field names (core/v1, apps/v1,
batch/v1), of what :mod:`orkestra.apiserver.pods`, :mod:`~orkestra.apiserver.launch`,
:mod:`~orkestra.apiserver.processes`, :mod:`~orkestra.apiserver.podlogs` and
:mod:`~orkestra.apiserver.webhooks` read of a Pod's containers, a workload's replicas and
pod template and a Service's selector and ports: only the fields read here. The store keeps
a built-in kind's spec as its client sent it (JSON), so :func:`pod_spec`,
:func:`workload_spec` and :func:`service_spec` read it as its kind's spec; every reader
allows for a missing field.
"""

from __future__ import annotations

from typing import TypedDict, cast

from orkestra.kubeobjects import (
    ContainerPort,
    JsonDict,
    KubeObject,
    LabelSelector,
    ObjectMeta,
    ServiceSpec,
)


class KeySelector(TypedDict, total=False):
    """A ConfigMapKeySelector or SecretKeySelector (``env[].valueFrom``)."""

    name: str
    key: str
    optional: bool


class ObjectFieldSelector(TypedDict, total=False):
    fieldPath: str
    apiVersion: str


class EnvVarSource(TypedDict, total=False):
    fieldRef: ObjectFieldSelector
    configMapKeyRef: KeySelector
    secretKeyRef: KeySelector
    resourceFieldRef: JsonDict


class EnvVar(TypedDict, total=False):
    name: str
    value: str
    valueFrom: EnvVarSource


class SourceRef(TypedDict, total=False):
    """A ConfigMapEnvSource or SecretEnvSource (``envFrom[]``)."""

    name: str
    optional: bool


class EnvFromSource(TypedDict, total=False):
    prefix: str
    configMapRef: SourceRef
    secretRef: SourceRef


class VolumeMount(TypedDict, total=False):
    name: str
    mountPath: str
    subPath: str
    readOnly: bool


class HTTPGetAction(TypedDict, total=False):
    port: int | str  # a number or the name of a container port
    path: str
    scheme: str


class TCPSocketAction(TypedDict, total=False):
    port: int | str


class Probe(TypedDict, total=False):
    httpGet: HTTPGetAction
    tcpSocket: TCPSocketAction
    periodSeconds: int
    timeoutSeconds: int
    failureThreshold: int


class Container(TypedDict, total=False):
    name: str
    image: str
    command: list[str]
    args: list[str]
    workingDir: str
    env: list[EnvVar]
    envFrom: list[EnvFromSource]
    ports: list[ContainerPort]
    volumeMounts: list[VolumeMount]
    readinessProbe: Probe


class KeyToPath(TypedDict, total=False):
    key: str
    path: str


class ConfigMapVolumeSource(TypedDict, total=False):
    name: str
    items: list[KeyToPath]
    optional: bool


class SecretVolumeSource(TypedDict, total=False):
    secretName: str
    items: list[KeyToPath]
    optional: bool


class Volume(TypedDict, total=False):
    name: str
    configMap: ConfigMapVolumeSource
    secret: SecretVolumeSource
    emptyDir: JsonDict


class PodSpec(TypedDict, total=False):
    containers: list[Container]
    initContainers: list[Container]
    ephemeralContainers: list[Container]
    volumes: list[Volume]
    nodeName: str
    serviceAccountName: str
    terminationGracePeriodSeconds: int


class PodTemplateSpec(TypedDict, total=False):
    metadata: ObjectMeta
    spec: PodSpec


class RollingUpdate(TypedDict, total=False):
    maxUnavailable: int | str  # a count or a percentage ("25%")
    maxSurge: int | str


class DeploymentStrategy(TypedDict, total=False):
    type: str
    rollingUpdate: RollingUpdate


class WorkloadSpec(TypedDict, total=False):
    """What is read of the spec of a Deployment, StatefulSet or Job (``parallelism``,
    ``completions`` and ``backoffLimit`` are a Job's, ``strategy`` a Deployment's)."""

    replicas: int
    parallelism: int
    completions: int
    backoffLimit: int
    selector: LabelSelector
    template: PodTemplateSpec
    strategy: DeploymentStrategy


def pod_spec(pod: KubeObject) -> PodSpec:
    """A Pod's spec (``{}`` when it has none)."""
    return cast(PodSpec, pod.get("spec") or {})


def workload_spec(workload: KubeObject) -> WorkloadSpec:
    """A Deployment's, StatefulSet's or Job's spec (``{}`` when it has none)."""
    return cast(WorkloadSpec, workload.get("spec") or {})


def service_spec(service: KubeObject) -> ServiceSpec:
    """A Service's spec (``{}`` when it has none)."""
    return cast(ServiceSpec, service.get("spec") or {})

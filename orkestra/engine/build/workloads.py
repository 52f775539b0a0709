"""Deployments, StatefulSets, ReplicaSets, Pods, Jobs and CronJobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from orkestra.engine.build.base import Build, builder
from orkestra.engine.build.shapes import (
    Container,
    CronJobSpec,
    DeploymentSpec,
    EnvVar,
    JobSpec,
    LocalObjectReference,
    PersistentVolumeClaimSpec,
    PersistentVolumeClaimTemplate,
    PodSpec,
    PodTemplateSpec,
    StatefulSetSpec,
    UpdateStrategy,
)
from orkestra.kubeobjects import ContainerPort, JsonDict, KubeObject

_PROBE_FIELDS = (
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
    "successThreshold",
)
_PROBE_KEYS: dict[str, Literal["startupProbe", "livenessProbe", "readinessProbe"]] = {
    "startup": "startupProbe",
    "liveness": "livenessProbe",
    "readiness": "readinessProbe",
}


def pod_labels(b: Build, name: str) -> dict[str, str]:
    declared = b.fields.string_map(b.item.get("labels"), "labels")
    return {"app": declared.get("app", name)}


def _probe(b: Build, spec: Mapping[str, object], port: int | None, field: str) -> JsonDict:
    """A probe: its profile's values (a JSON map), then the handler and timings."""
    probe: JsonDict = {}
    if "profile" in spec:
        probe.update(b.profile("probes", spec["profile"], f"{field}.profile"))
    kind = b.fields.text(spec.get("type"), f"{field}.type", "http")
    probe_port = b.fields.integer(spec.get("port"), f"{field}.port", port)
    if kind == "http":
        probe["httpGet"] = {
            "path": b.fields.text(spec.get("path"), f"{field}.path", "/"),
            "port": probe_port or 80,
        }
    elif kind == "tcp":
        probe["tcpSocket"] = {"port": probe_port or 80}
    elif kind == "grpc":
        probe["grpc"] = {"port": probe_port or 80}
    else:
        probe["exec"] = {"command": b.fields.strings(spec.get("command"), f"{field}.command")}
    for key in _PROBE_FIELDS:
        if key in spec:
            probe[key] = b.fields.integer(spec[key], f"{field}.{key}")
    return probe


def _env(b: Build) -> list[EnvVar]:
    out = []
    for i, var in enumerate(b.item.get("env") or []):
        entry: EnvVar = {"name": b.fields.text(var["name"], f"env[{i}].name")}
        if "valueFrom" in var:
            entry["valueFrom"] = b.fields.tree(var["valueFrom"], f"env[{i}].valueFrom")
        else:
            entry["value"] = b.fields.text(var.get("value"), f"env[{i}].value")
        out.append(entry)
    return out


def _env_from(b: Build) -> list[dict[str, LocalObjectReference]]:
    refs = b.item.get("envFrom") or {}
    out = []
    for key in ("configMapRef", "secretRef"):
        for i, ref in enumerate(b.fields.items(refs.get(key), f"envFrom.{key}")):
            where = f"envFrom.{key}[{i}]"
            name = b.fields.text(b.fields.mapping(ref, where)["name"], where)
            out.append({key: LocalObjectReference(name=name)})
    return out


def container(b: Build, name: str, *, image: str | None = None) -> Container:
    item = b.item
    c: Container = {"name": name, "image": image or b.fields.text(item.get("image"), "image")}
    port = b.fields.integer(item.get("port"), "port")
    if port is not None:
        entry: ContainerPort = {"containerPort": port}
        if item.get("protocol"):
            entry["protocol"] = b.fields.text(item["protocol"], "protocol")
        c["ports"] = [entry]
    for key in ("command", "args"):
        value = item.get(key)
        if value:
            c[key] = b.fields.strings(value, key)
    if item.get("workingDirectory"):
        c["workingDir"] = b.fields.text(item["workingDirectory"], "workingDirectory")
    env = _env(b)
    if env:
        c["env"] = env
    env_from = _env_from(b)
    if env_from:
        c["envFrom"] = env_from
    c["resources"] = b.profiled("resources", item.get("resources"), "resources") or {}
    security = b.profiled("containerSecurity", item.get("securityContext"), "securityContext")
    if security:
        c["securityContext"] = security
    for key, spec in (item.get("probes") or {}).items():
        where = f"probes.{key}"
        c[_PROBE_KEYS[key]] = _probe(b, b.fields.mapping(spec, where), port, where)
    mounts = [
        b.fields.tree(m, f"volumeMounts[{i}]") for i, m in enumerate(item.get("volumeMounts") or [])
    ]
    if mounts:
        c["volumeMounts"] = mounts
    return c


def pod_spec(b: Build, main: Container) -> PodSpec:
    item = b.item
    spec: PodSpec = {"containers": [main]}
    secrets = item.get("imagePullSecrets") or []
    if secrets:
        spec["imagePullSecrets"] = [
            {
                "name": b.fields.text(
                    s if isinstance(s, str) else s["name"], f"imagePullSecrets[{i}]"
                )
            }
            for i, s in enumerate(secrets)
        ]
    if item.get("serviceAccountName"):
        spec["serviceAccountName"] = b.fields.text(item["serviceAccountName"], "serviceAccountName")
    if item.get("nodeSelector"):
        spec["nodeSelector"] = b.fields.string_map(item["nodeSelector"], "nodeSelector")
    if item.get("volumes"):
        spec["volumes"] = [b.fields.tree(v, f"volumes[{i}]") for i, v in enumerate(item["volumes"])]
    pod_security = b.profiled("podSecurity", item.get("podSecurity"), "podSecurity")
    if pod_security:
        spec["securityContext"] = pod_security
    return spec


def _template(labels: dict[str, str], spec: PodSpec) -> PodTemplateSpec:
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def _replicas(b: Build) -> int:
    replicas = b.fields.integer(b.item.get("replicas"), "replicas", 1)
    if replicas < 0:
        raise b.fields.fail("replicas", f"{replicas} is negative")
    return replicas


def _strategy(b: Build) -> UpdateStrategy:
    value = b.item.get("rollingUpdate")
    if value is None:
        return {}
    profile = b.profiled("rollingUpdate", value, "rollingUpdate") or {}
    rolling = {k: b.fields.int_or_percent(v, f"rollingUpdate.{k}") for k, v in profile.items()}
    return {"type": "RollingUpdate", "rollingUpdate": rolling}


@builder("deployments", "replicaSets")
def deployment(b: Build) -> list[KubeObject]:
    name = b.name()
    labels = pod_labels(b, name)
    spec: DeploymentSpec = {"replicas": _replicas(b), "selector": {"matchLabels": dict(labels)}}
    if b.key == "deployments":
        spec["strategy"] = _strategy(b)
    spec["template"] = _template(labels, pod_spec(b, container(b, name)))
    return [b.object(name, {"spec": spec}, labels=labels)]


def _image_with_tag(b: Build) -> str:
    image = b.fields.text(b.item.get("image"), "image")
    tag = b.fields.text(b.item.get("tag"), "tag", "latest")
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:{tag}"


@builder("statefulSets")
def statefulset(b: Build) -> list[KubeObject]:
    name = b.name()
    labels = pod_labels(b, name)
    main = container(b, name, image=_image_with_tag(b))
    claims: list[PersistentVolumeClaimTemplate] = []
    for i, vct in enumerate(b.item.get("volumeClaimTemplates") or []):
        where = f"volumeClaimTemplates[{i}]"
        claim_name = b.fields.text(vct["name"], f"{where}.name")
        claim_spec: PersistentVolumeClaimSpec = {
            "accessModes": b.fields.strings(
                vct.get("accessModes") or ["ReadWriteOnce"], f"{where}.accessModes"
            ),
            "resources": {
                "requests": {
                    "storage": b.fields.text(vct.get("storageSize"), f"{where}.storageSize", "1Gi")
                }
            },
        }
        if vct.get("storageClass"):
            claim_spec["storageClassName"] = b.fields.text(
                vct["storageClass"], f"{where}.storageClass"
            )
        claims.append({"metadata": {"name": claim_name}, "spec": claim_spec})
        if vct.get("mountPath"):
            main.setdefault("volumeMounts", []).append(
                {
                    "name": claim_name,
                    "mountPath": b.fields.text(vct["mountPath"], f"{where}.mountPath"),
                }
            )
    spec: StatefulSetSpec = {
        "replicas": _replicas(b),
        "serviceName": b.fields.text(b.item.get("serviceName"), "serviceName", name),
        "selector": {"matchLabels": dict(labels)},
        "template": _template(labels, pod_spec(b, main)),
    }
    if b.item.get("rollingUpdate") is not None:
        spec["updateStrategy"] = {"type": "RollingUpdate"}
    if claims:
        spec["volumeClaimTemplates"] = claims
    return [b.object(name, {"spec": spec}, labels=labels)]


def _restarting_pod(b: Build, name: str, default: str) -> PodSpec:
    """A pod spec with the declaration's restartPolicy (or ``default``)."""
    spec = pod_spec(b, container(b, name))
    spec["restartPolicy"] = b.fields.text(b.item.get("restartPolicy"), "restartPolicy", default)
    return spec


@builder("pods")
def pod(b: Build) -> list[KubeObject]:
    name = b.name()
    spec = _restarting_pod(b, name, "Always")
    return [b.object(name, {"spec": spec}, labels=pod_labels(b, name))]


@builder("jobs")
def job(b: Build) -> list[KubeObject]:
    name = b.name()
    pod = _restarting_pod(b, name, "Never")
    spec: JobSpec = {
        "backoffLimit": b.fields.integer(b.item.get("backoffLimit"), "backoffLimit", 3),
        "template": {"metadata": {}, "spec": pod},
    }
    return [b.object(name, {"spec": spec})]


@builder("cronJobs")
def cronjob(b: Build) -> list[KubeObject]:
    name = b.name()
    pod = pod_spec(b, container(b, name))
    pod["restartPolicy"] = "OnFailure"
    job_spec: JobSpec = {"template": {"metadata": {}, "spec": pod}}
    if b.item.get("backoffLimit") is not None:
        job_spec["backoffLimit"] = b.fields.integer(b.item["backoffLimit"], "backoffLimit")
    spec: CronJobSpec = {
        "schedule": b.fields.text(b.item.get("schedule"), "schedule"),
        "jobTemplate": {"metadata": {"name": name}, "spec": job_spec},
        "successfulJobsHistoryLimit": b.fields.integer(
            b.item.get("successfulJobsHistoryLimit"), "successfulJobsHistoryLimit", 3
        ),
        "failedJobsHistoryLimit": b.fields.integer(
            b.item.get("failedJobsHistoryLimit"), "failedJobsHistoryLimit", 1
        ),
    }
    if b.item.get("concurrencyPolicy"):
        policy = b.fields.text(b.item["concurrencyPolicy"], "concurrencyPolicy")
        spec["concurrencyPolicy"] = policy[:1].upper() + policy[1:].lower()
    if b.item.get("suspend") is not None:
        spec["suspend"] = b.fields.boolean(b.item["suspend"], "suspend")
    if b.item.get("startingDeadlineSeconds") is not None:
        spec["startingDeadlineSeconds"] = b.fields.integer(
            b.item["startingDeadlineSeconds"], "startingDeadlineSeconds"
        )
    return [b.object(name, {"spec": spec})]

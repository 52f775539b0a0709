"""Deployments, StatefulSets, ReplicaSets, Pods, Jobs and CronJobs."""

from __future__ import annotations

from orkestra.engine.build.base import Build, Obj, builder

_PROBE_FIELDS = (
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
    "successThreshold",
)
_PROBE_KEYS = {
    "startup": "startupProbe",
    "liveness": "livenessProbe",
    "readiness": "readinessProbe",
}


def pod_labels(b: Build, name: str) -> dict[str, str]:
    declared = b.fields.string_map(b.item.get("labels"), "labels")
    return {"app": declared.get("app", name)}


def _probe(b: Build, spec: Obj, port: int | None, field: str) -> Obj:
    probe: Obj = {}
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


def _env(b: Build) -> list[Obj]:
    out = []
    for i, var in enumerate(b.item.get("env") or []):
        entry: Obj = {"name": b.fields.text(var["name"], f"env[{i}].name")}
        if "valueFrom" in var:
            entry["valueFrom"] = b.fields.tree(var["valueFrom"], f"env[{i}].valueFrom")
        else:
            entry["value"] = b.fields.text(var.get("value"), f"env[{i}].value")
        out.append(entry)
    return out


def _env_from(b: Build) -> list[Obj]:
    refs = b.item.get("envFrom") or {}
    out = []
    for key in ("configMapRef", "secretRef"):
        for i, ref in enumerate(refs.get(key) or []):
            out.append({key: {"name": b.fields.text(ref["name"], f"envFrom.{key}[{i}]")}})
    return out


def container(b: Build, name: str, *, image: str | None = None) -> Obj:
    item = b.item
    c: Obj = {"name": name, "image": image or b.fields.text(item.get("image"), "image")}
    port = b.fields.integer(item.get("port"), "port")
    if port is not None:
        entry: Obj = {"containerPort": port}
        if item.get("protocol"):
            entry["protocol"] = b.fields.text(item["protocol"], "protocol")
        c["ports"] = [entry]
    for key, value in (("command", item.get("command")), ("args", item.get("args"))):
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
        c[_PROBE_KEYS[key]] = _probe(b, spec, port, f"probes.{key}")
    mounts = [
        b.fields.tree(m, f"volumeMounts[{i}]") for i, m in enumerate(item.get("volumeMounts") or [])
    ]
    if mounts:
        c["volumeMounts"] = mounts
    return c


def pod_spec(b: Build, main: Obj) -> Obj:
    item = b.item
    spec: Obj = {"containers": [main]}
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


def _template(labels: dict[str, str], spec: Obj) -> Obj:
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def _replicas(b: Build) -> int:
    replicas = b.fields.integer(b.item.get("replicas"), "replicas", 1)
    assert replicas is not None
    if replicas < 0:
        raise b.fields.fail("replicas", f"{replicas} is negative")
    return replicas


def _strategy(b: Build) -> Obj:
    value = b.item.get("rollingUpdate")
    if value is None:
        return {}
    rolling = b.profiled("rollingUpdate", value, "rollingUpdate") or {}
    rolling = {k: b.fields.int_or_percent(v, f"rollingUpdate.{k}") for k, v in rolling.items()}
    return {"type": "RollingUpdate", "rollingUpdate": rolling}


@builder("deployments", "replicaSets")
def deployment(b: Build) -> list[Obj]:
    name = b.name()
    labels = pod_labels(b, name)
    body: Obj = {"spec": {"replicas": _replicas(b), "selector": {"matchLabels": dict(labels)}}}
    if b.key == "deployments":
        body["spec"]["strategy"] = _strategy(b)
    body["spec"]["template"] = _template(labels, pod_spec(b, container(b, name)))
    return [b.object(name, body, labels=labels)]


def _image_with_tag(b: Build) -> str:
    image = b.fields.text(b.item.get("image"), "image")
    tag = b.fields.text(b.item.get("tag"), "tag", "latest")
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:{tag}"


@builder("statefulSets")
def statefulset(b: Build) -> list[Obj]:
    name = b.name()
    labels = pod_labels(b, name)
    main = container(b, name, image=_image_with_tag(b))
    claims = []
    for i, vct in enumerate(b.item.get("volumeClaimTemplates") or []):
        where = f"volumeClaimTemplates[{i}]"
        claim_name = b.fields.text(vct["name"], f"{where}.name")
        claim_spec: Obj = {
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
    spec: Obj = {
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


def _restarting_pod(b: Build, name: str, default: str) -> Obj:
    """A pod spec with the declaration's restartPolicy (or ``default``)."""
    spec = pod_spec(b, container(b, name))
    spec["restartPolicy"] = b.fields.text(b.item.get("restartPolicy"), "restartPolicy", default)
    return spec


@builder("pods")
def pod(b: Build) -> list[Obj]:
    name = b.name()
    spec = _restarting_pod(b, name, "Always")
    return [b.object(name, {"spec": spec}, labels=pod_labels(b, name))]


@builder("jobs")
def job(b: Build) -> list[Obj]:
    name = b.name()
    spec = _restarting_pod(b, name, "Never")
    body = {
        "spec": {
            "backoffLimit": b.fields.integer(b.item.get("backoffLimit"), "backoffLimit", 3),
            "template": {"metadata": {}, "spec": spec},
        }
    }
    return [b.object(name, body)]


@builder("cronJobs")
def cronjob(b: Build) -> list[Obj]:
    name = b.name()
    pod = pod_spec(b, container(b, name))
    pod["restartPolicy"] = "OnFailure"
    job_spec: Obj = {"template": {"metadata": {}, "spec": pod}}
    if b.item.get("backoffLimit") is not None:
        job_spec["backoffLimit"] = b.fields.integer(b.item["backoffLimit"], "backoffLimit")
    spec: Obj = {
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

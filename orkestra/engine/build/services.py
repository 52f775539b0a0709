"""Services, Ingresses and NetworkPolicies."""

from __future__ import annotations

from orkestra.engine.build.base import Build, builder
from orkestra.engine.build.configs import tls_secret
from orkestra.engine.build.shapes import (
    HTTPIngressPath,
    IngressBackend,
    IngressRule,
    IngressSpec,
)
from orkestra.kubeobjects import JsonDict, KubeObject, ServicePort, ServiceSpec


def default_selector(b: Build) -> dict[str, str]:
    """The pods a Service or PDB targets when the declaration names none: those of the
    CRD's first workload."""
    if b.workload is not None:
        return dict(b.workload[1])
    return {"app": b.owner.name}


@builder("services")
def service(b: Build) -> list[KubeObject]:
    item = b.item
    name = b.name()
    port = b.fields.integer(item.get("port"), "port", 80)
    target = b.fields.integer(item.get("targetPort"), "targetPort", port)
    kind = b.fields.text(item.get("type"), "type", "ClusterIP")
    entry: ServicePort = {
        "name": f"{port}-{target}",
        "port": port,
        "protocol": b.fields.text(item.get("protocol"), "protocol", "TCP"),
        "targetPort": target,
    }
    if item.get("nodePort") is not None:
        entry["nodePort"] = b.fields.integer(item["nodePort"], "nodePort")
    spec: ServiceSpec = {"ports": [entry]}
    if kind == "ExternalName":
        spec = {"externalName": b.fields.text(item.get("externalName"), "externalName")}
    else:
        spec["selector"] = (
            b.fields.string_map(item["selector"], "selector")
            if item.get("selector")
            else default_selector(b)
        )
    if b.fields.boolean(item.get("headless"), "headless"):
        spec["clusterIP"] = "None"
    spec["type"] = kind
    return [b.object(name, {"spec": spec})]


@builder("ingresses")
def ingress(b: Build) -> list[KubeObject]:
    item = b.item
    name = b.name()
    host = b.fields.text(item.get("host"), "host")
    backend: IngressBackend = {
        "service": {
            "name": b.fields.text(item.get("serviceName"), "serviceName", f"{b.owner.name}-svc"),
            "port": {"number": b.fields.integer(item.get("servicePort"), "servicePort", 80)},
        }
    }
    path: HTTPIngressPath = {
        "backend": backend,
        "path": b.fields.text(item.get("path"), "path", "/"),
        "pathType": b.fields.text(item.get("pathType"), "pathType", "Prefix"),
    }
    rule: IngressRule = {"http": {"paths": [path]}}
    if host:
        rule = {"host": host, **rule}
    spec: IngressSpec = {"rules": [rule]}
    if item.get("className"):
        spec["ingressClassName"] = b.fields.text(item["className"], "className")
    objects = []
    if item.get("tls"):
        tls = b.fields.mapping(item.get("tls"), "tls")
        secret = b.fields.text(tls.get("secretName"), "tls.secretName", f"{name}-tls")
        hosts = b.fields.strings(tls.get("hosts"), "tls.hosts") or ([host] if host else [])
        spec["tls"] = [{"hosts": hosts, "secretName": secret}]
        if b.fields.boolean(tls.get("create"), "tls.create"):
            objects.append(
                tls_secret(
                    b, secret, b.namespace(), hosts[0] if hosts else name, hosts, 365 * 86400
                )
            )
    return [b.object(name, {"spec": spec}), *objects]


@builder("networkPolicies")
def network_policy(b: Build) -> list[KubeObject]:
    item = b.item
    spec: JsonDict = {}  # with the profile's values: JSON
    if item.get("profile"):
        spec.update(b.profile("networkPolicies", item["profile"], "profile"))
    spec["podSelector"] = (
        {"matchLabels": b.fields.string_map(item["podSelector"], "podSelector")}
        if item.get("podSelector")
        else {}
    )
    for key in ("policyTypes", "ingress", "egress"):
        if item.get(key) is not None:
            spec[key] = b.fields.tree(item[key], key)
    return [b.object(b.name(), {"spec": spec})]

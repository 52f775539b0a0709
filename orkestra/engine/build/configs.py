"""ConfigMaps and Secrets, including copies from other namespaces, fan-out to namespaces,
generated TLS certificates and the ``generated-at`` stamp that ``rotateAfter`` reads."""

from __future__ import annotations

import base64
from typing import Literal

from orkestra.engine.api import CopySource, CopySourcePolicy
from orkestra.engine.build.base import (
    GENERATED_AT_ANNOTATION,
    Build,
    SkippedDeclaration,
    builder,
)
from orkestra.engine.build.shapes import ObjectBody
from orkestra.kubeobjects import KubeObject
from orkestra.units import format_timestamp, parse_duration


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _targets(b: Build) -> list[str]:
    fan_out = b.fields.strings(b.item.get("toNamespaces"), "toNamespaces")
    return fan_out or [b.namespace()]


def _source(b: Build, api_kind: str, field: Literal["fromConfigMap", "fromSecret"]) -> KubeObject:
    ref = b.fields.text(b.item.get(field), field)
    namespace = b.fields.text(b.item.get("fromNamespace"), "fromNamespace") or b.owner.namespace
    found = b.cluster.find("v1", api_kind, ref, namespace)
    if found is not None:
        return found
    if namespace != b.owner.namespace and isinstance(b.cluster, CopySourcePolicy):
        source = CopySource(
            declaration=b.key,
            declared_name=str(b.item.get("name") or ""),
            kind=api_kind,
            name=ref,
            namespace=namespace,
        )
        if b.cluster.skip_copy(source):
            raise SkippedDeclaration
    raise b.fields.fail(field, f'{api_kind} "{ref}" not found in namespace "{namespace}"')


@builder("configMaps")
def config_map(b: Build) -> list[KubeObject]:
    if b.item.get("fromConfigMap"):
        data = dict(_source(b, "ConfigMap", "fromConfigMap").get("data") or {})
    else:
        data = b.fields.string_map(b.item.get("data"), "data")
    name = b.name()
    return [b.object(name, {"data": data}, namespace=ns) for ns in _targets(b)]


def stamp(b: Build, obj: KubeObject) -> KubeObject:
    obj["metadata"]["annotations"][GENERATED_AT_ANNOTATION] = format_timestamp(b.clock())
    return obj


@builder("secrets")
def secret(b: Build) -> list[KubeObject]:
    item = b.item
    name = b.name()
    if item.get("tls") is not None:
        tls = b.fields.mapping(item.get("tls"), "tls")
        common = b.fields.text(tls.get("commonName"), "tls.commonName", b.owner.name)
        hosts = b.fields.strings(tls.get("dnsNames"), "tls.dnsNames")
        valid = b.fields.text(tls.get("validFor"), "tls.validFor", "365d")
        return [
            tls_secret(
                b,
                b.fields.text(item.get("name"), "name", "orkestra-tls"),
                b.namespace(),
                common,
                hosts,
                parse_duration(valid),
            )
        ]
    if item.get("fromSecret"):
        source = _source(b, "Secret", "fromSecret")
        body: ObjectBody = {
            "data": dict(source.get("data") or {}),
            "type": source.get("type", "Opaque"),
        }
    else:
        body = {
            "data": {k: _b64(v) for k, v in b.fields.string_map(item.get("data"), "data").items()},
            "type": b.fields.text(item.get("type"), "type", "Opaque"),
        }
    objects = [b.object(name, body.copy(), namespace=ns) for ns in _targets(b)]
    if item.get("once"):
        objects = [stamp(b, obj) for obj in objects]
    return objects


def tls_secret(
    b: Build,
    name: str,
    namespace: str,
    common_name: str,
    dns_names: list[str],
    valid_seconds: float,
) -> KubeObject:
    from orkestra.engine.tls import self_signed

    pem = self_signed(common_name, dns_names or [common_name], valid_seconds, b.clock())
    data = {
        "tls.crt": _b64(pem.certificate),
        "tls.key": _b64(pem.key),
        "ca.crt": _b64(pem.certificate),
    }
    obj = b.object(name, {"data": data, "type": "kubernetes.io/tls"}, namespace=namespace)
    obj["kind"], obj["apiVersion"] = "Secret", "v1"
    return stamp(b, obj)

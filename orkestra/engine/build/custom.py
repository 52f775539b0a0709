"""Custom resources: any apiVersion/kind, with a free-form spec whose rendered values are
typed the way the original coerces them (numbers, booleans, JSON)."""

from __future__ import annotations

from orkestra.engine.build.base import Build, builder
from orkestra.engine.build.shapes import kube_object
from orkestra.kubeobjects import Json, JsonDict, KubeObject


@builder("custom")
def custom(b: Build) -> list[KubeObject]:
    item = b.item
    meta = item.get("metadata") or {}
    namespaced = meta.get("namespaced", True) is not False
    name = b.fields.text(meta.get("name", item.get("name")), "metadata.name") or b.owner.name
    namespace = (
        b.fields.text(meta.get("namespace", item.get("namespace")), "metadata.namespace")
        or b.owner.namespace
    )
    declared = {
        "labels": meta.get("labels") or item.get("labels"),
        "annotations": meta.get("annotations") or item.get("annotations"),
    }
    api_version = b.fields.text(item["apiVersion"], "apiVersion")
    kind = b.fields.text(item["kind"], "kind")
    metadata = b.metadata(
        name, namespace if namespaced else None, cluster_scoped=not namespaced, declared=declared
    )
    body: JsonDict = {}
    values: tuple[tuple[str, Json], ...] = (("spec", item.get("spec")), ("data", item.get("data")))
    for key, value in values:
        if value is not None:
            body[key] = b.fields.tree(value, key, coerce=True)
    return [kube_object(api_version, kind, metadata, body)]

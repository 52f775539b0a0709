"""Custom resources: any apiVersion/kind, with a free-form spec whose rendered values are
typed the way the original coerces them (numbers, booleans, JSON)."""

from __future__ import annotations

from orkestra.engine.build.base import Build, Obj, builder


@builder("custom")
def custom(b: Build) -> list[Obj]:
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
    view = Build(
        b.key,
        {**item, **declared},
        b.fields,
        b.owner,
        b.declaration,
        b.profiles,
        b.cluster,
        b.clock,
        b.workload,
    )
    obj: Obj = {
        "apiVersion": b.fields.text(item["apiVersion"], "apiVersion"),
        "kind": b.fields.text(item["kind"], "kind"),
        "metadata": view.metadata(
            name, namespace if namespaced else None, cluster_scoped=not namespaced
        ),
    }
    for key in ("spec", "data"):
        if item.get(key) is not None:
            obj[key] = b.fields.tree(item[key], key, coerce=True)
    return [obj]

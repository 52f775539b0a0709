"""The template context of a reconcile: the CR plus what Orkestra injects."""

from __future__ import annotations

from orkestra.cluster.data import clone
from orkestra.engine.api import ClusterAPI
from orkestra.engine.build import OWNER_LABEL, Owner, kind_type
from orkestra.engine.build.base import OWNER_NAME_LABEL, label_value
from orkestra.kubeobjects import Json, JsonDict, KubeObject

# ``.children``: by kind, the first object (``children.deployment``) or all of them.
Children = dict[str, KubeObject | list[KubeObject]]


def template_context(cr: KubeObject, *, private: bool = True) -> dict[str, object]:
    """``.metadata``, ``.spec``, ``.status`` of the CR, and the injected keys. ``private``:
    a deep copy the caller may change at any depth; otherwise only the top level is new
    and the CR's maps are shared (for a caller that only reads them, or sets top-level
    keys). Values are the CR's typed parts, what Orkestra injects, and what mutation
    rules set: templates read them as JSON."""
    data = {key: clone(value) for key, value in cr.items()} if private else dict(cr)
    data.setdefault("spec", {})
    data.setdefault("status", {})
    for key in ("children", "inputs", "external", "cross", "metrics", "health", "previous"):
        data.setdefault(key, {})
    return data


def owned(obj: KubeObject, owner: Owner) -> bool:
    meta = obj.get("metadata") or {}
    if any(ref.get("uid") == owner.uid for ref in meta.get("ownerReferences") or []):
        return True
    return (meta.get("labels") or {}).get(OWNER_LABEL) == owner.owner_label


def children_of(
    cluster: ClusterAPI, owner: Owner, keys: list[str], custom: list[tuple[str, str]]
) -> Children:
    """``.children``: for each kind the CR owns, ``children.<kind>`` (the first object) and
    ``children.<plural>`` (all of them); custom kinds also appear as ``children.custom``."""
    children: Children = {}
    selector = f"{OWNER_NAME_LABEL}={label_value(owner.name)}"
    wanted = [(kind_type(k)[0], kind_type(k)[1], k) for k in keys] + [
        (api, kind, "custom") for api, kind in custom
    ]
    for api_version, kind, key in wanted:
        found = [
            o
            for o in cluster.list(api_version, kind, None, label_selector=selector)
            if owned(o, owner)
        ]
        if not found:
            continue
        singular = kind.lower()
        children.setdefault(singular, found[0])
        children.setdefault(key.lower() if key != "custom" else singular + "s", found)
        if key == "custom":
            children.setdefault("custom", found[0])
    return children


def set_path(data: dict[str, object] | JsonDict, path: str, value: Json) -> None:
    """Set ``a.b.c`` in nested maps (a template context, a status), creating the maps on
    the way."""
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if isinstance(child, dict):
            node = child
        else:
            created: JsonDict = {}
            node[part] = created
            node = created
    node[parts[-1]] = value

"""The template context of a reconcile: the CR plus what Orkestra injects."""

from __future__ import annotations

from typing import Any

from orkestra.cluster.data import clone
from orkestra.engine.api import ClusterAPI
from orkestra.engine.build import OWNER_LABEL, Owner, kind_type
from orkestra.engine.build.base import OWNER_NAME_LABEL, label_value

Obj = dict[str, Any]


def template_context(cr: Obj, *, private: bool = True) -> Obj:
    """``.metadata``, ``.spec``, ``.status`` of the CR, and the injected keys. ``private``:
    a deep copy the caller may change at any depth; otherwise only the top level is new
    and the CR's maps are shared (for a caller that only reads them, or sets top-level
    keys)."""
    data = clone(cr) if private else dict(cr)
    data.setdefault("spec", {})
    data.setdefault("status", {})
    for key in ("children", "inputs", "external", "cross", "metrics", "health", "previous"):
        data.setdefault(key, {})
    return data


def owned(obj: Obj, owner: Owner) -> bool:
    meta = obj.get("metadata") or {}
    if any(ref.get("uid") == owner.uid for ref in meta.get("ownerReferences") or []):
        return True
    return (meta.get("labels") or {}).get(OWNER_LABEL) == owner.owner_label


def children_of(
    cluster: ClusterAPI, owner: Owner, keys: list[str], custom: list[tuple[str, str]]
) -> Obj:
    """``.children``: for each kind the CR owns, ``children.<kind>`` (the first object) and
    ``children.<plural>`` (all of them); custom kinds also appear as ``children.custom``."""
    children: Obj = {}
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


def set_path(data: Obj, path: str, value: Any) -> None:
    """Set ``a.b.c`` in nested maps, creating the maps on the way."""
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value

"""The template context of a reconcile: the CR plus what Orkestra injects, and the reads
of the owner's objects that ``.children`` and the prune are made of."""

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


class OwnedObjects:
    """One reconcile's reads of its owner's objects: per kind, those labelled
    ``orkestra-owner=NAME`` (what the child lists and the prune look at), and ``.children``.

    Each kind is listed once and the answer reused until :meth:`forget`, which the
    reconciler calls before each write it makes and after the hooks ran (they may write
    through the cluster themselves); :meth:`begin` starts the next reconcile with nothing
    kept. Between two writes of a reconcile nothing it does changes those lists, so a
    reused list is the one a new read would give. A change somebody else makes meanwhile (a
    workload's status) is not picked up before the reconcile's next write: its watch event
    queues the CR again, and that reconcile lists afresh; until then the templates, the
    prune and the status see one state of the children.
    """

    def __init__(self, cluster: ClusterAPI, keys: list[str], custom: list[tuple[str, str]]) -> None:
        """``keys``: the resource-template keys of the children; ``custom``: the (apiVersion,
        kind) of custom ones."""
        self.cluster = cluster
        self.kinds = [(*kind_type(k)[:2], k) for k in keys] + [
            (api, kind, "custom") for api, kind in custom
        ]
        self.owner: Owner | None = None
        self.selector = ""
        self._lists: dict[tuple[str, str], list[KubeObject]] = {}
        self._children: Children | None = None

    def begin(self, owner: Owner) -> None:
        """A reconcile of ``owner`` starts."""
        self.owner = owner
        self.selector = f"{OWNER_NAME_LABEL}={label_value(owner.name)}"
        self.forget()

    def forget(self) -> None:
        self._lists.clear()
        self._children = None

    def labelled(self, api_version: str, kind: str) -> list[KubeObject]:
        """The objects of a kind that carry the owner's label (owned or not)."""
        found = self._lists.get((api_version, kind))
        if found is None:
            found = self._lists[(api_version, kind)] = self.cluster.list(
                api_version, kind, None, label_selector=self.selector
            )
        return found

    def children(self) -> Children:
        """``.children``: for each kind the CR owns, ``children.<kind>`` (the first object)
        and ``children.<plural>`` (all of them); custom kinds also appear as
        ``children.custom``."""
        if self._children is None:
            self._children = self._list_children()
        return self._children

    def _list_children(self) -> Children:
        owner = self.owner
        assert owner is not None, "begin() names the owner"
        children: Children = {}
        for api_version, kind, key in self.kinds:
            found = [o for o in self.labelled(api_version, kind) if owned(o, owner)]
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

"""The client a hook gets: reads, and writes of objects the CR owns.

:meth:`HookClient.apply` is create-or-update with the same ownership as templates give:
the managed labels, the owner-name label, the declaration annotation (``hooks/<function>``),
an ownerReference to the CR where Kubernetes allows one (same namespace) and the owner
label elsewhere; the object lands in the CR's namespace unless it names another or its
kind is cluster-scoped. It goes through the reconciler's own apply, so an unchanged object
is never written. Objects read are copies. Every cluster call goes through a guard (the
runner's relay, which makes the call on the reconciling thread and refuses calls once the
cycle's deadline has passed).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any, cast

from orkestra.cluster.data import clone
from orkestra.cluster.resources import BUILTIN_TYPES
from orkestra.engine.build.base import (
    DECLARATION_ANNOTATION,
    MANAGED_LABELS,
    OWNER_LABEL,
    OWNER_NAME_LABEL,
    label_value,
)
from orkestra.engine.context import owned
from orkestra.engine.hooks import HookCall
from orkestra.hooks.api import HookError
from orkestra.kubeobjects import KubeObject

Guard = Callable[..., Any]  # calls a cluster function: guard(function, *args, **kwargs)
_CLUSTER_SCOPED = {(t.api_version, t.kind) for t in BUILTIN_TYPES if not t.namespaced}


class MalformedObjectError(HookError):
    """A hook gave something that is not a Kubernetes object."""


def checked_object(obj: object) -> KubeObject:
    """A copy of ``obj`` once it has a string apiVersion and kind and metadata.name."""
    if not isinstance(obj, Mapping):
        raise MalformedObjectError(
            f"expected a Kubernetes object (a mapping), got {type(obj).__name__}"
        )
    meta = obj.get("metadata")
    problems = [
        f"{key} must be a non-empty string"
        for key in ("apiVersion", "kind")
        if not isinstance(obj.get(key), str) or not obj.get(key)
    ]
    if not isinstance(meta, Mapping):
        problems.append("metadata must be a mapping")
    elif not isinstance(meta.get("name"), str) or not meta.get("name"):
        problems.append("metadata.name must be a non-empty string")
    if problems:
        name = meta.get("name", "") if isinstance(meta, Mapping) else ""
        shown = f"{obj.get('kind') or 'object'} {name}".strip()
        raise MalformedObjectError(f"malformed object ({shown}): " + "; ".join(problems))
    return cast(KubeObject, clone(dict(obj)))  # its envelope was just checked


def cluster_scoped(api_version: str, kind: str) -> bool:
    return (api_version, kind) in _CLUSTER_SCOPED


class HookClient:
    """Reads and owned writes for one CR's callbacks.

    Objects come back as ``dict[str, Any]`` on purpose: this is the API hook authors
    type-check their code against, and a hook reads the fields it knows
    (``int(stored["status"]["readyReplicas"])``) without narrowing every JSON value."""

    def __init__(self, call: HookCall, declaration: str, guard: Guard | None = None) -> None:
        self._call = call
        self._guard: Guard = guard or (lambda function, *args, **kwargs: function(*args, **kwargs))
        self.declaration = declaration

    @property
    def namespace(self) -> str:
        """The CR's namespace (``""`` for a cluster-scoped CR)."""
        return self._call.owner.namespace

    def apply(self, obj: Mapping[str, object], *, create_only: bool = False) -> dict[str, Any]:
        """Create ``obj`` or bring the existing one to it; returns what the cluster holds.
        ``create_only``: create it when missing, never change an existing one (a generated
        password)."""
        desired = checked_object(obj)
        owner = self._call.owner
        scoped = cluster_scoped(desired["apiVersion"], desired["kind"])
        meta = desired["metadata"]
        if scoped:
            meta.pop("namespace", None)
        else:
            meta["namespace"] = meta.get("namespace") or owner.namespace or "default"
        labels = {
            **(meta.get("labels") or {}),
            **MANAGED_LABELS,
            OWNER_NAME_LABEL: label_value(owner.name),
        }
        if owner.can_reference(meta.get("namespace"), cluster_scoped=scoped):
            references = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != owner.uid]
            meta["ownerReferences"] = [owner.reference(), *references]
        else:
            labels[OWNER_LABEL] = owner.owner_label
        meta["labels"] = labels
        meta["annotations"] = {
            **(meta.get("annotations") or {}),
            DECLARATION_ANNOTATION: self.declaration,
        }
        return clone(self._guard(self._call.apply, desired, create_only))

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """One object (in the CR's namespace unless told), or None."""
        found = self._guard(
            self._call.cluster.find,
            api_version,
            kind,
            name,
            self._where(api_version, kind, namespace),
        )
        return clone(found) if found is not None else None

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        labels: Mapping[str, str] | str | None = None,
    ) -> list[dict[str, Any]]:
        """Objects of a kind (every namespace when ``namespace`` is None), by labels."""
        selector: dict[str, str] | str | None = (
            dict(labels) if isinstance(labels, Mapping) else labels
        )
        found = self._guard(
            self._call.cluster.list, api_version, kind, namespace, label_selector=selector
        )
        return [clone(o) for o in found]

    def owned(self, api_version: str, kind: str) -> builtins.list[dict[str, Any]]:
        """The objects of a kind this CR owns (by reference or by owner label)."""
        selector = {OWNER_NAME_LABEL: label_value(self._call.owner.name)}
        found = self._guard(
            self._call.cluster.list, api_version, kind, None, label_selector=selector
        )
        return [clone(o) for o in found if owned(o, self._call.owner)]

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete an object this CR owns; False when it is not there. Deleting what the CR
        does not own is refused."""
        where = self._where(api_version, kind, namespace)
        found = self._guard(self._call.cluster.find, api_version, kind, name, where)
        if found is None:
            return False
        if not owned(found, self._call.owner):
            raise HookError(
                f"{kind} {name} is not owned by {self._call.owner.kind} "
                f"{self._call.owner.name}: hooks delete only what their CR owns"
            )
        self._guard(self._call.cluster.delete, api_version, kind, name, where)
        return True

    def _where(self, api_version: str, kind: str, namespace: str | None) -> str | None:
        if cluster_scoped(api_version, kind):
            return None
        return namespace or self._call.owner.namespace or None

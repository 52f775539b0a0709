"""Resource URLs: which type, namespace, object and subresource a request is about.

``/api/v1/namespaces/ns/configmaps/name`` and ``/apis/apps/v1/deployments`` are parsed by
hand rather than by route patterns because the same shapes mean different things:
``/api/v1/namespaces/team/configmaps`` lists configmaps in a namespace, while
``/api/v1/namespaces/team/status`` is the status subresource of a namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from orkestra.cluster.errors import NotFoundError

_NAMESPACE_SUBRESOURCES = {"status", "finalize"}


@dataclass(frozen=True, kw_only=True)
class Target:
    group: str
    version: str
    plural: str
    namespace: str | None = None  # None: cluster-scoped or across all namespaces
    name: str = ""
    subresource: str = ""

    @property
    def collection(self) -> bool:
        return not self.name


def parse(group: str, version: str, rest: str) -> Target:
    """The target of ``/<prefix>/<group>/<version>/<rest>``."""
    parts = [p for p in rest.split("/") if p]
    if not parts:
        raise NotFoundError("the server could not find the requested resource")
    if (
        parts[0] == "namespaces"
        and len(parts) >= 3
        and not (len(parts) == 3 and parts[2] in _NAMESPACE_SUBRESOURCES)
    ):
        namespace, parts = parts[1], parts[2:]
        return _item(group, version, parts, namespace)
    return _item(group, version, parts, None)


def _item(group: str, version: str, parts: list[str], namespace: str | None) -> Target:
    if len(parts) > 3:
        raise NotFoundError("the server could not find the requested resource")
    plural = parts[0]
    name = parts[1] if len(parts) > 1 else ""
    subresource = parts[2] if len(parts) > 2 else ""
    return Target(
        group=group,
        version=version,
        plural=plural,
        namespace=namespace,
        name=name,
        subresource=subresource,
    )

"""RBAC as Kubernetes decides it, for checking bundles: API requests read from paths, and
whether the roles bound to a ServiceAccount allow them (ClusterRoles everywhere, Roles in
their namespace; apiGroups, resources with subresources, verbs and resourceNames as the
RBAC authorizer matches them). Non-resource requests (discovery) are everyone's through
the default ``system:discovery`` binding, so they are not requests to check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

Obj = dict[str, Any]
Grant = tuple[str, str, str, str]  # group, resource[/subresource], verb, name ("" = any)


@dataclass(frozen=True)
class Request:
    verb: str
    group: str
    resource: str  # with its subresource: webapps/status
    namespace: str = ""
    name: str = ""

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.verb} {self.group or 'core'}/{self.resource} {where}{self.name}".strip()


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def request_of(method: str, path_qs: str) -> Request | None:
    """The resource request of an HTTP request, or None for a non-resource one."""
    url = urlsplit(path_qs)
    parts = [p for p in url.path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return None
    if not rest:
        return None  # discovery
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource, name = rest[0], rest[1] if len(rest) > 1 else ""
    if len(rest) > 2:
        resource += "/" + rest[2]
    watch = parse_qs(url.query).get("watch", [""])[0] in ("true", "1")
    if method == "GET":
        verb = "get" if name else "watch" if watch else "list"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = _VERBS[method]
    return Request(verb, group, resource, namespace, name)


def grants(rules: Iterable[Obj]) -> set[Grant]:
    """Every (group, resource, verb, name) a list of rules names, one tuple each."""
    return {
        (group, resource, verb, name)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames") or [""]
    }


@dataclass
class Account:
    """What the roles bound to one ServiceAccount allow, read from a list of objects."""

    cluster: list[Obj]  # rules of the bound ClusterRoles
    namespaced: dict[str, list[Obj]]  # namespace -> rules of the bound Roles

    @classmethod
    def of(cls, objects: list[Obj], namespace: str, name: str) -> Account:
        subject = {"kind": "ServiceAccount", "name": name, "namespace": namespace}
        roles = {
            (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
            for o in objects
            if o["kind"] in ("ClusterRole", "Role")
        }
        account = cls([], {})
        for binding in objects:
            if (
                binding["kind"] not in ("ClusterRoleBinding", "RoleBinding")
                or subject not in binding["subjects"]
            ):
                continue
            ref = binding["roleRef"]
            scope = binding["metadata"].get("namespace", "")
            role = roles[(ref["kind"], "" if ref["kind"] == "ClusterRole" else scope, ref["name"])]
            if binding["kind"] == "ClusterRoleBinding":
                account.cluster += role["rules"]
            else:
                account.namespaced.setdefault(scope, []).extend(role["rules"])
        return account

    def allows(self, request: Request) -> bool:
        rules = (
            self.cluster + self.namespaced.get(request.namespace, [])
            if request.namespace
            else self.cluster
        )
        return any(_matches(rule, request) for rule in rules)


def _matches(rule: Obj, request: Request) -> bool:
    names = rule.get("resourceNames") or []
    return (
        (request.group in rule["apiGroups"] or "*" in rule["apiGroups"])
        and (request.resource in rule["resources"] or "*" in rule["resources"])
        and (request.verb in rule["verbs"] or "*" in rule["verbs"])
        and (not names or request.name in names)
    )

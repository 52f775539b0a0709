"""Which admission requests a policy or a webhook selects, as kube-apiserver decides it.

One admission request (:class:`Request`: the operation, the type and subresource written,
the object after and before) is matched the same way by ValidatingAdmissionPolicies and by
admission webhooks: resource rules (operations, API groups and versions, resources with
``*``, ``*/*`` and subresources, scope, resource names), a namespace selector (on the
labels of the namespace a namespaced object is in, or of a Namespace itself; cluster-scoped
kinds always match) and an object selector (on the labels of the object either before or
after the write). :class:`Scope` converts a request once for the CEL expressions that judge
it (``object``, ``oldObject``, ``request``, ``namespaceObject``). Rules match the version a
request uses (matchPolicy Equivalent, which also matches other versions of the same
resource, is not modelled: the store serves one version of most kinds).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, Protocol, TypedDict

from orkestra.cluster.cel import json_to_cel
from orkestra.cluster.data import MetaKey, meta_subset
from orkestra.cluster.errors import NotFoundError
from orkestra.cluster.resources import ResourceType
from orkestra.cluster.selectors import label_matcher
from orkestra.kubeobjects import Json, JsonDict, JsonObject, KubeObject

if TYPE_CHECKING:
    from celpy import celtypes

Activation = dict[str, "celtypes.Value"]
"""The variables CEL expressions see (``object``, ``request``, ``params`` ...), by name."""
# The embedded server has one credential, which may do anything.


class UserInfo(TypedDict):
    username: str
    groups: list[str]


class GroupVersionKind(TypedDict):
    group: str
    version: str
    kind: str


class GroupVersionResource(TypedDict):
    group: str
    version: str
    resource: str


class AdmissionRequest(TypedDict):
    """admission.k8s.io/v1 AdmissionRequest: what a webhook (and a policy's ``request``
    variable) is told about a write."""

    uid: str
    kind: GroupVersionKind
    resource: GroupVersionResource
    requestKind: GroupVersionKind
    requestResource: GroupVersionResource
    name: str
    operation: str
    userInfo: UserInfo
    dryRun: bool
    subResource: NotRequired[str]
    requestSubResource: NotRequired[str]
    namespace: NotRequired[str]
    object: NotRequired[KubeObject | None]
    oldObject: NotRequired[KubeObject | None]
    options: NotRequired[JsonObject]


USER: UserInfo = {"username": "ork-embedded", "groups": ["system:masters", "system:authenticated"]}
NAMESPACES = ("", "namespaces")
_NAMESPACE_META: tuple[MetaKey, ...] = (
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


class Store(Protocol):
    """The reads matching needs (what :class:`~orkestra.cluster.MemoryCluster` has)."""

    def type_for(self, api_version: str, kind: str) -> ResourceType: ...

    def read(self, rt: ResourceType, namespace: str | None, name: str) -> KubeObject: ...

    def select(
        self,
        rt: ResourceType,
        namespace: str | None,
        *,
        label_selector: str | Mapping[str, object] | None = None,
    ) -> list[KubeObject]: ...


@dataclass(frozen=True, kw_only=True)
class Request:
    """One write as admission sees it: the operation (CREATE, UPDATE or DELETE), the type and
    subresource written, and the object after (None on DELETE) and before (None on CREATE)."""

    operation: str
    rt: ResourceType
    namespace: str
    name: str
    obj: KubeObject | None = None
    old: KubeObject | None = None
    subresource: str = ""
    dry_run: bool = False


class Scope:
    """A request and its inputs to CEL, converted once for all the policies and webhooks it
    meets."""

    def __init__(self, request: Request, store: Store) -> None:
        self.request = request
        self.store = store

    @functools.cached_property
    def namespace(self) -> KubeObject | None:
        """The Namespace a namespaced object is in."""
        request = self.request
        if not request.rt.namespaced:
            return None
        try:
            return self.store.read(self.store.type_for("v1", "Namespace"), None, request.namespace)
        except NotFoundError:
            return None

    @functools.cached_property
    def request_context(self) -> Activation:
        """What a webhook's matchConditions see: ``object``, ``oldObject``, ``request``."""
        request = self.request
        return {
            "object": json_to_cel(request.obj),
            "oldObject": json_to_cel(request.old),
            "request": json_to_cel(request_view(request)),
        }

    @functools.cached_property
    def context(self) -> Activation:
        """What a policy's expressions see: the request's inputs, ``namespaceObject`` and
        (empty) ``params``."""
        return {
            **self.request_context,
            "namespaceObject": json_to_cel(_namespace_view(self.namespace)),
            "params": None,
        }

    def with_params(self, params: KubeObject | None) -> Activation:
        return {**self.context, "params": json_to_cel(params)}


def request_view(request: Request, uid: str = "") -> AdmissionRequest:
    """The AdmissionRequest of a request, without its objects and options."""
    rt = request.rt
    kind: GroupVersionKind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    resource: GroupVersionResource = {
        "group": rt.group,
        "version": rt.version,
        "resource": rt.plural,
    }
    view: AdmissionRequest = {
        "uid": uid or str(uuid.uuid4()),
        "kind": kind,
        "resource": resource,
        "requestKind": kind,
        "requestResource": resource,
        "name": request.name,
        "operation": request.operation,
        "userInfo": USER,
        "dryRun": request.dry_run,
    }
    if request.subresource:
        view["subResource"] = view["requestSubResource"] = request.subresource
    # the API server names a Namespace's own namespace after it
    namespace = request.name if request.rt.key == NAMESPACES else request.namespace
    if namespace:
        view["namespace"] = namespace
    return view


def _namespace_view(namespace: KubeObject | None) -> KubeObject | None:
    """What ``namespaceObject`` shows of a Namespace (no type, managed fields or version)."""
    if namespace is None:
        return None
    view: KubeObject = {"metadata": meta_subset(namespace.get("metadata") or {}, _NAMESPACE_META)}
    if "spec" in namespace:
        view["spec"] = namespace["spec"]
    if "status" in namespace:
        view["status"] = namespace["status"]
    return view


# -- matching -------------------------------------------------------------------------


def constraints_select(criteria: Json, scope: Scope) -> bool:
    """Whether a policy's matchConstraints (or a binding's matchResources, which may be
    absent) select the request: no resourceRules match every resource."""
    if not isinstance(criteria, dict):
        return True
    request = scope.request
    rules = items(criteria, "resourceRules")
    return (
        namespace_selected(criteria.get("namespaceSelector"), scope)
        and object_selected(criteria.get("objectSelector"), request)
        and not any(rule_matches(rule, request) for rule in items(criteria, "excludeResourceRules"))
        and (not rules or any(rule_matches(rule, request) for rule in rules))
    )


def rule_matches(rule: JsonObject, request: Request, operations: tuple[str, ...] = ()) -> bool:
    """A rule with operations, apiGroups, apiVersions, resources, scope and (for policies)
    resourceNames. ``operations`` asks whether any of them matches instead of the request's
    (what a write whose operation is not known yet may turn out to be)."""
    rt = request.rt
    names = rule.get("resourceNames") or []
    resources = rule.get("resources") or []
    return (
        any(_listed(rule.get("operations"), op) for op in operations or (request.operation,))
        and _listed(rule.get("apiGroups"), rt.group)
        and _listed(rule.get("apiVersions"), rt.version)
        and isinstance(resources, list)
        and any(_resource_matches(str(r), request) for r in resources)
        and _scope_matches(str(rule.get("scope") or "*"), rt)
        and (not names or (isinstance(names, list) and request.name in names))
    )


def _listed(values: Json, value: str) -> bool:
    return isinstance(values, list) and ("*" in values or value in values)


def _resource_matches(pattern: str, request: Request) -> bool:
    """``deployments``, ``*`` (no subresources), ``pods/status``, ``pods/*``, ``*/*``."""
    resource, _, subresource = pattern.partition("/")
    return resource in ("*", request.rt.plural) and subresource in ("*", request.subresource)


def _scope_matches(scope: str, rt: ResourceType) -> bool:
    return scope == "*" or (scope == "Namespaced") == rt.namespaced


def namespace_selected(selector: Json, scope: Scope) -> bool:
    """A namespace's own labels select a Namespace; cluster-scoped kinds always match."""
    request = scope.request
    if request.rt.key == NAMESPACES:
        found = labels(request.obj if request.obj is not None else request.old)
    elif not request.rt.namespaced:
        return True
    else:
        found = labels(scope.namespace)
    return label_matcher(selector if isinstance(selector, dict) else None)(found)


def object_selected(selector: Json, request: Request) -> bool:
    """The labels of the object either after or before the write match."""
    matches = label_matcher(selector if isinstance(selector, dict) else None)
    return any(obj is not None and matches(labels(obj)) for obj in (request.obj, request.old))


# -- helpers --------------------------------------------------------------------------


def spec_of(obj: KubeObject) -> JsonDict:
    found = obj.get("spec")
    return found if isinstance(found, dict) else {}


def items(parent: Mapping[str, object], key: str) -> list[JsonDict]:
    """A list of objects (anything else in it as an empty object, keeping indexes)."""
    value = parent.get(key)
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, dict) else {} for item in value]


def labels(obj: KubeObject | None) -> dict[str, str]:
    found = ((obj or {}).get("metadata") or {}).get("labels")
    return found if isinstance(found, dict) else {}

"""Shapes of JSON data and of the Kubernetes objects Orkestra reads and writes.

``Json`` is any JSON value; :class:`KubeObject` and its parts follow the Kubernetes API
(``metav1.ObjectMeta``, ``OwnerReference``, ``Condition``, the RBAC rule shapes). Every key
is optional (``total=False``) because the API server and the user may leave any of them
out; readers use ``.get``. The content of a ``spec`` or ``status`` depends on the kind (and
for a custom resource on its CRD), so it is typed as JSON, not as one of these shapes; it
is a mutable ``JsonDict`` because the store, defaulting and the engine edit it in place.
"""

# No ``from __future__ import annotations`` here: a TypedDict compiles every string
# annotation into a ForwardRef when its class is made, which doubles this module's import
# time (measured); every command that loads patterns imports it.

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypeAlias, TypedDict, cast

# A JSON value. Containers are read-only views so that a ``list[str]`` or a
# ``dict[str, int]`` is a JSON value too (``list`` and ``dict`` are invariant).
Json: TypeAlias = "str | int | float | bool | Sequence[Json] | Mapping[str, Json] | None"
JsonObject: TypeAlias = Mapping[str, Json]
# A JSON object under construction: keys are added before it is written out.
JsonDict: TypeAlias = dict[str, Json]


class OwnerReference(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool
    blockOwnerDeletion: bool


class ManagedFieldsEntry(TypedDict, total=False):
    manager: str
    operation: str
    apiVersion: str
    time: str
    fieldsType: str
    fieldsV1: JsonObject
    subresource: str


class ObjectMeta(TypedDict, total=False):
    name: str
    generateName: str
    namespace: str
    uid: str
    resourceVersion: str
    generation: int
    creationTimestamp: str
    deletionTimestamp: str
    deletionGracePeriodSeconds: int
    labels: dict[str, str]
    annotations: dict[str, str]
    ownerReferences: list[OwnerReference]
    finalizers: list[str]
    managedFields: list[ManagedFieldsEntry]


class Condition(TypedDict, total=False):
    """One entry of ``status.conditions``."""

    type: str
    status: str
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


class LabelSelector(TypedDict, total=False):
    matchLabels: dict[str, str]
    matchExpressions: list[dict[str, str | list[str]]]


class PolicyRule(TypedDict, total=False):
    apiGroups: list[str]
    resources: list[str]
    resourceNames: list[str]
    verbs: list[str]
    nonResourceURLs: list[str]


class RoleRef(TypedDict, total=False):
    apiGroup: str
    kind: str
    name: str


class Subject(TypedDict, total=False):
    kind: str
    name: str
    namespace: str
    apiGroup: str


class KubeObject(TypedDict, total=False):
    """A Kubernetes object: the envelope every kind shares, plus the top-level keys of the
    kinds Orkestra builds that have no ``spec`` (ConfigMap, Secret, RBAC)."""

    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: JsonDict
    status: JsonDict
    data: dict[str, str]
    stringData: dict[str, str]
    binaryData: dict[str, str]
    type: str
    immutable: bool
    rules: list[PolicyRule]
    roleRef: RoleRef
    subjects: list[Subject]


# -- the core/v1 shapes both the builders (what they write) and the embedded server's
# kubelet (what it reads) use the same way -----------------------------------------------


class ContainerPort(TypedDict, total=False):
    name: str
    containerPort: int
    protocol: str


class ServicePort(TypedDict, total=False):
    name: str
    port: int
    targetPort: int | str  # a number or the name of a container port
    protocol: str
    nodePort: int | None


class ServiceSpec(TypedDict, total=False):
    selector: dict[str, str]
    ports: list[ServicePort]
    type: str
    clusterIP: str
    externalName: str


# Functional syntax: ``continue`` is a Python keyword.
ListMeta = TypedDict(
    "ListMeta", {"resourceVersion": str, "continue": str, "remainingItemCount": int}, total=False
)


class KubeList(TypedDict, total=False):
    """A list response (``PodList``, ``ConfigMapList``, ...)."""

    apiVersion: str
    kind: str
    metadata: ListMeta
    items: list[KubeObject]


class APIResource(TypedDict):
    """One resource type of a discovery answer (``metav1.APIResource``)."""

    name: str
    singularName: str
    namespaced: bool
    kind: str
    verbs: list[str]
    group: NotRequired[str]  # a subresource of another group's kind (scale)
    version: NotRequired[str]
    shortNames: NotRequired[list[str]]
    categories: NotRequired[list[str]]


class APIResourceList(TypedDict):
    """The discovery answer of ``/api/v1`` or ``/apis/GROUP/VERSION``."""

    kind: str
    apiVersion: str
    groupVersion: str
    resources: list[APIResource]


def as_json(shape: Mapping[str, object]) -> JsonDict:
    """A typed shape (a :class:`KubeObject`, a :class:`Condition`, a :class:`PolicyRule` ...)
    as the JSON object it is at run time, for code that reads or edits any JSON by key or path
    or writes it out: mypy widens a TypedDict only to ``Mapping[str, object]``. The same dict,
    not a copy."""
    return cast(JsonDict, shape)

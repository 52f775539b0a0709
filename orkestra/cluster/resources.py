"""Resource types: which kinds exist, their group/version/plural and scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NotRequired, TypedDict, cast

from orkestra.cluster.openapi import Schema
from orkestra.kubeobjects import JsonDict, JsonObject, KubeObject


class ScaleSubresource(TypedDict):
    """A CRD version's ``subresources.scale``: where the replica counts live."""

    specReplicasPath: str
    statusReplicasPath: str
    labelSelectorPath: NotRequired[str]


class PrinterColumn(TypedDict):
    """One of a CRD version's ``additionalPrinterColumns`` (what ``kubectl get`` shows)."""

    name: str
    type: str
    jsonPath: str
    description: NotRequired[str]
    format: NotRequired[str]
    priority: NotRequired[int]


class CustomResourceDefinitionNames(TypedDict, total=False):
    kind: str
    plural: str
    singular: str
    listKind: str
    shortNames: list[str]
    categories: list[str]


class CustomResourceValidation(TypedDict, total=False):
    openAPIV3Schema: JsonObject


class CustomResourceSubresources(TypedDict, total=False):
    status: JsonDict
    scale: ScaleSubresource


class CustomResourceDefinitionVersion(TypedDict, total=False):
    """One entry of a CRD's ``spec.versions``."""

    name: str
    served: bool
    storage: bool
    schema: CustomResourceValidation | None
    subresources: CustomResourceSubresources | None
    additionalPrinterColumns: list[PrinterColumn]


class CustomResourceDefinitionSpec(TypedDict, total=False):
    group: str
    scope: str
    names: CustomResourceDefinitionNames
    versions: list[CustomResourceDefinitionVersion]


def crd_spec(crd: KubeObject) -> CustomResourceDefinitionSpec:
    """A CRD's spec, whose shape :func:`orkestra.cluster.openapi.crd_problems` checked before
    the CRD was admitted or loaded."""
    return cast(CustomResourceDefinitionSpec, crd.get("spec") or {})


@dataclass(frozen=True, kw_only=True)
class ResourceType:
    """A served resource. Its derived names are computed once (``cached_property``: every
    write reads them several times)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    schema: JsonObject | None = field(default=None, compare=False, hash=False)
    has_status: bool = True
    short_names: tuple[str, ...] = ()
    singular: str = ""
    # CRD extras: the scale subresource's paths, kubectl's printer columns, categories.
    scale: ScaleSubresource | None = field(default=None, compare=False, hash=False)
    printer_columns: tuple[PrinterColumn, ...] = field(default=(), compare=False, hash=False)
    categories: tuple[str, ...] = field(default=(), compare=False, hash=False)

    @cached_property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @cached_property
    def qualified(self) -> str:
        """``deployments.apps`` (core resources have no group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @cached_property
    def key(self) -> tuple[str, str]:
        """(group, plural): how objects of this type are stored."""
        return (self.group, self.plural)

    @cached_property
    def rules(self) -> Schema:
        """The schema of a custom resource as defaulting, pruning and validation read it
        (empty for a built-in kind)."""
        return Schema(self.schema if isinstance(self.schema, dict) else {})


def _t(
    api_version: str,
    kind: str,
    plural: str,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    has_status: bool = True,
) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    return ResourceType(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        schema=None,
        has_status=has_status,
        short_names=short,
        singular=kind.lower(),
    )


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _t("v1", "Namespace", "namespaces", False, ("ns",)),
    _t("v1", "Pod", "pods", short=("po",)),
    _t("v1", "Service", "services", short=("svc",)),
    _t("v1", "ConfigMap", "configmaps", short=("cm",), has_status=False),
    _t("v1", "Secret", "secrets", has_status=False),
    _t("v1", "ServiceAccount", "serviceaccounts", short=("sa",), has_status=False),
    _t("v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",)),
    _t("v1", "PersistentVolume", "persistentvolumes", False, ("pv",)),
    _t("v1", "ResourceQuota", "resourcequotas", short=("quota",)),
    _t("v1", "LimitRange", "limitranges", short=("limits",), has_status=False),
    _t("v1", "Event", "events", short=("ev",), has_status=False),
    _t("v1", "Endpoints", "endpoints", short=("ep",), has_status=False),
    _t("v1", "Node", "nodes", False, ("no",)),
    _t("apps/v1", "Deployment", "deployments", short=("deploy",)),
    _t("apps/v1", "StatefulSet", "statefulsets", short=("sts",)),
    _t("apps/v1", "ReplicaSet", "replicasets", short=("rs",)),
    _t("apps/v1", "DaemonSet", "daemonsets", short=("ds",)),
    _t("batch/v1", "Job", "jobs"),
    _t("batch/v1", "CronJob", "cronjobs", short=("cj",)),
    _t("networking.k8s.io/v1", "Ingress", "ingresses", short=("ing",)),
    _t(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        short=("netpol",),
        has_status=False,
    ),
    _t("rbac.authorization.k8s.io/v1", "Role", "roles", has_status=False),
    _t("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", has_status=False),
    _t("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False, has_status=False),
    _t(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        False,
        has_status=False,
    ),
    _t("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",)),
    _t("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",)),
    _t(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ("crd", "crds"),
    ),
    _t("coordination.k8s.io/v1", "Lease", "leases", has_status=False),
    _t("events.k8s.io/v1", "Event", "events", has_status=False),
    _t("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", has_status=False),
    _t(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        False,
        has_status=False,
    ),
    _t(
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        False,
        has_status=False,
    ),
    _t(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        False,
    ),
    _t(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        False,
        has_status=False,
    ),
)


def plural_of(kind: str) -> str:
    """The conventional plural resource name of a kind (``Policy`` -> ``policies``)."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def crd_types(crd: KubeObject) -> list[ResourceType]:
    """One type per served version of a CustomResourceDefinition manifest."""
    spec = crd_spec(crd)
    names = spec.get("names") or {}
    namespaced = spec.get("scope", "Namespaced") != "Cluster"
    out = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        subresources = version.get("subresources") or {}
        out.append(
            ResourceType(
                group=spec.get("group", ""),
                version=version.get("name", ""),
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                namespaced=namespaced,
                schema=schema,
                has_status="status" in subresources,
                short_names=tuple(names.get("shortNames") or ()),
                singular=names.get("singular", ""),
                scale=subresources.get("scale"),
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                categories=tuple(names.get("categories") or ()),
            )
        )
    return out

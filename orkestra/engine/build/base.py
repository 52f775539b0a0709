"""Shared pieces of the builders: ownership, metadata, the registry of kinds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from orkestra.engine.api import ClusterAPI
from orkestra.engine.build.shapes import ObjectBody, kube_object
from orkestra.engine.fields import Fields
from orkestra.engine.profiles import ProfileError, Profiles
from orkestra.kubeobjects import Json, JsonDict, KubeObject, ObjectMeta, OwnerReference
from orkestra.model.shapes import Declaration

MANAGED_LABELS = {"managed-by": "orkestra"}
OWNER_NAME_LABEL = "orkestra-owner"
OWNER_LABEL = "orkestra.io/owner"
DECLARATION_ANNOTATION = "orkestra.orkspace.io/declaration"
GENERATED_AT_ANNOTATION = "orkestra.orkspace.io/generated-at"


class SkippedDeclaration(Exception):  # noqa: N818 - an outcome, not an error
    """The declaration makes nothing this reconcile, by the cluster's decision (see
    :class:`~orkestra.engine.api.CopySourcePolicy`)."""


# resource-template key -> (apiVersion, kind, cluster-scoped)
KINDS: dict[str, tuple[str, str, bool]] = {
    "deployments": ("apps/v1", "Deployment", False),
    "statefulSets": ("apps/v1", "StatefulSet", False),
    "replicaSets": ("apps/v1", "ReplicaSet", False),
    "pods": ("v1", "Pod", False),
    "jobs": ("batch/v1", "Job", False),
    "cronJobs": ("batch/v1", "CronJob", False),
    "services": ("v1", "Service", False),
    "ingresses": ("networking.k8s.io/v1", "Ingress", False),
    "networkPolicies": ("networking.k8s.io/v1", "NetworkPolicy", False),
    "configMaps": ("v1", "ConfigMap", False),
    "secrets": ("v1", "Secret", False),
    "namespaces": ("v1", "Namespace", True),
    "persistentVolumeClaims": ("v1", "PersistentVolumeClaim", False),
    "persistentVolumes": ("v1", "PersistentVolume", True),
    "serviceAccounts": ("v1", "ServiceAccount", False),
    "roles": ("rbac.authorization.k8s.io/v1", "Role", False),
    "roleBindings": ("rbac.authorization.k8s.io/v1", "RoleBinding", False),
    "clusterRoles": ("rbac.authorization.k8s.io/v1", "ClusterRole", True),
    "clusterRoleBindings": ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", True),
    "hpa": ("autoscaling/v2", "HorizontalPodAutoscaler", False),
    "pdb": ("policy/v1", "PodDisruptionBudget", False),
    "resourceQuotas": ("v1", "ResourceQuota", False),
    "limitRanges": ("v1", "LimitRange", False),
}

_DEFAULT_SUFFIX = {
    "deployments": "-deployment",
    "services": "-svc",
    "configMaps": "-config",
    "secrets": "-secret",
    "jobs": "-job",
    "cronJobs": "-cronjob",
    "roles": "-role",
    "ingresses": "-ingress",
    "statefulSets": "",
    "replicaSets": "-rs",
    "pods": "-pod",
    "networkPolicies": "-netpol",
    "namespaces": "",
    "persistentVolumeClaims": "-pvc",
    "persistentVolumes": "-pv",
    "serviceAccounts": "",
    "roleBindings": "-rolebinding",
    "clusterRoles": "-clusterrole",
    "clusterRoleBindings": "-clusterrolebinding",
    "hpa": "-hpa",
    "pdb": "-pdb",
    "resourceQuotas": "-quota",
    "limitRanges": "-limits",
}


def kind_type(key: str) -> tuple[str, str, bool]:
    """(apiVersion, kind, cluster-scoped) of a resource-template key."""
    return KINDS[key]


def default_name(key: str, cr_name: str) -> str:
    """The name an object gets when its declaration has none."""
    return cr_name + _DEFAULT_SUFFIX.get(key, "")


def label_value(text: str) -> str:
    """A valid label value (at most 63 characters) standing for ``text``."""
    if len(text) <= 63:
        return text
    import hashlib  # rarely needed: ork simulate and ork run otherwise go without it

    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{text[:52].rstrip('-.')}-{digest}"


@dataclass(frozen=True, kw_only=True)
class Owner:
    """The CR the objects belong to."""

    api_version: str
    kind: str
    name: str
    namespace: str
    uid: str
    crd: str

    @classmethod
    def of(cls, cr: KubeObject, crd: str) -> Owner:
        meta = cr["metadata"]
        return cls(
            api_version=cr["apiVersion"],
            kind=cr["kind"],
            name=meta["name"],
            namespace=meta.get("namespace", ""),
            uid=meta.get("uid", ""),
            crd=crd,
        )

    @property
    def owner_label(self) -> str:
        return label_value(
            f"{self.crd}.{self.namespace}.{self.name}"
            if self.namespace
            else f"{self.crd}.{self.name}"
        )

    def reference(self) -> OwnerReference:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def can_reference(self, namespace: str | None, *, cluster_scoped: bool) -> bool:
        """Whether an object there may carry an ownerReference to this CR (Kubernetes
        allows one only within the owner's namespace); otherwise it gets OWNER_LABEL."""
        return not cluster_scoped and bool(self.namespace) and namespace == self.namespace


@dataclass(kw_only=True)
class Build:
    """Everything a builder needs for one declaration (and one forEach item)."""

    key: str
    item: Declaration
    fields: Fields
    owner: Owner
    declaration: str
    profiles: Profiles
    cluster: ClusterAPI
    clock: Callable[[], datetime]
    workload: tuple[str, dict[str, str]] | None = None  # first workload: name, pod labels
    extra: list[KubeObject] = field(default_factory=list)

    @property
    def where(self) -> str:
        return self.fields.where

    def name(self) -> str:
        return self.fields.text(self.item.get("name"), "name") or default_name(
            self.key, self.owner.name
        )

    def namespace(self) -> str:
        return self.fields.text(self.item.get("namespace"), "namespace") or self.owner.namespace

    def metadata(
        self,
        name: str,
        namespace: str | None,
        *,
        cluster_scoped: bool = False,
        labels: dict[str, str] | None = None,
        declared: Mapping[str, object] | None = None,
    ) -> ObjectMeta:
        """``declared``: where the declaration's ``labels`` and ``annotations`` are (the
        declaration itself unless given)."""
        source: Mapping[str, object] = self.item if declared is None else declared
        meta: ObjectMeta = {"name": name}
        all_labels = {**(labels or {}), **self.fields.string_map(source.get("labels"), "labels")}
        all_labels.update(MANAGED_LABELS)
        all_labels[OWNER_NAME_LABEL] = label_value(self.owner.name)
        annotations = self.fields.string_map(source.get("annotations"), "annotations")
        annotations[DECLARATION_ANNOTATION] = self.declaration
        if self.owner.can_reference(namespace, cluster_scoped=cluster_scoped):
            meta["ownerReferences"] = [self.owner.reference()]
        else:
            all_labels[OWNER_LABEL] = self.owner.owner_label
        if namespace and not cluster_scoped:
            meta["namespace"] = namespace
        meta["labels"] = all_labels
        meta["annotations"] = annotations
        return meta

    def profile(self, cls: str, name: object, field: str) -> JsonDict:
        """The values of profile ``name`` (a template) of class ``cls``."""
        rendered = self.fields.text(name, field)
        try:
            return self.profiles.get(cls, rendered)
        except ProfileError as exc:
            raise self.fields.fail(field, str(exc)) from None

    def profiled(self, cls: str, value: Json, field: str) -> JsonDict | None:
        """``{profile: NAME}`` resolved, explicit values rendered, or None when absent."""
        if value is None:
            return None
        if isinstance(value, dict) and "profile" in value:
            return self.profile(cls, value["profile"], f"{field}.profile")
        rendered = self.fields.tree(value, field)
        if not isinstance(rendered, dict):
            raise self.fields.fail(field, "expected a map or {profile: NAME}")
        return rendered

    def object(
        self,
        name: str,
        body: ObjectBody,
        *,
        namespace: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> KubeObject:
        api_version, kind, cluster_scoped = KINDS[self.key]
        ns = None if cluster_scoped else (namespace or self.namespace())
        meta = self.metadata(name, ns, cluster_scoped=cluster_scoped, labels=labels)
        return kube_object(api_version, kind, meta, body)


Builder = Callable[[Build], list[KubeObject]]
BUILDERS: dict[str, Builder] = {}


def builder(*keys: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for key in keys:
            BUILDERS[key] = fn
        return fn

    return register


def build_objects(b: Build) -> list[KubeObject]:
    """The objects one declaration asks for."""
    return BUILDERS[b.key](b)

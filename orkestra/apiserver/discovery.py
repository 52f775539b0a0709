"""Discovery documents: ``/version``, ``/api``, ``/apis`` and the resource lists.

Clients learn from these which groups, versions and resources exist, whether a resource is
namespaced, which verbs and short names it has and which subresources it serves (kubectl
builds its REST mapping from them; Kopf decides from ``/status`` whether to patch status
through the subresource). Everything is derived from the types the store serves, so a CRD
shows up the moment it is created.
"""

from __future__ import annotations

import platform
from collections import defaultdict
from typing import NotRequired, TypedDict

from orkestra import __version__
from orkestra.cluster.kubeschema import KUBERNETES_VERSION
from orkestra.cluster.resources import ResourceType, ScaleSubresource
from orkestra.kubeobjects import APIResource, APIResourceList

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = ["get", "patch", "update"]
_BUILTIN_SCALE = {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets")}
# the built-in members of the "all" category (what ``kubectl get all`` lists)
_ALL = {
    ("", "pods"),
    ("", "services"),
    ("", "replicationcontrollers"),
    ("apps", "daemonsets"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("batch", "cronjobs"),
    ("batch", "jobs"),
}
_LEGACY = ""  # the core group, served under /api rather than /apis


class VersionInfo(TypedDict):
    major: str
    minor: str
    gitVersion: str
    gitCommit: str
    gitTreeState: str
    buildDate: str
    goVersion: str
    compiler: str
    platform: str
    emulationMajor: str
    emulationMinor: str


class ServerAddress(TypedDict):
    clientCIDR: str
    serverAddress: str


class APIVersions(TypedDict):
    kind: str
    versions: list[str]
    serverAddressByClientCIDRs: list[ServerAddress]


class GroupVersion(TypedDict):
    groupVersion: str
    version: str


class APIGroup(TypedDict):
    name: str
    versions: list[GroupVersion]
    preferredVersion: GroupVersion
    kind: NotRequired[str]
    apiVersion: NotRequired[str]


class APIGroupList(TypedDict):
    kind: str
    apiVersion: str
    groups: list[APIGroup]


def version_info() -> VersionInfo:
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"{KUBERNETES_VERSION}+orkestra-{__version__}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "n/a",
        "compiler": "cpython",
        "platform": f"{platform.system().lower()}/{platform.machine().lower()}",
        "emulationMajor": major,
        "emulationMinor": minor,
    }


def scale_paths(rt: ResourceType) -> ScaleSubresource | None:
    """The scale subresource of a type: a CRD's declaration, or the built-in one."""
    if rt.scale is not None:
        return rt.scale
    if rt.key in _BUILTIN_SCALE:
        return {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        }
    return None


def _by_group(types: list[ResourceType]) -> dict[str, dict[str, list[ResourceType]]]:
    groups: dict[str, dict[str, list[ResourceType]]] = defaultdict(lambda: defaultdict(list))
    for rt in types:
        groups[rt.group][rt.version].append(rt)
    return groups


def _version_rank(version: str) -> tuple[int, int, int]:
    """v1 > v1beta2 > v1beta1 > v1alpha1 (Kubernetes' version priority, roughly)."""
    digits = "".join(c if c.isdigit() else " " for c in version).split()
    major = int(digits[0]) if digits else 0
    minor = int(digits[1]) if len(digits) > 1 else 0
    stage = (
        2 if "alpha" not in version and "beta" not in version else (1 if "beta" in version else 0)
    )
    return (stage, major, minor)


def api_versions(address: str) -> APIVersions:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def _group_entry(group: str, versions: dict[str, list[ResourceType]]) -> APIGroup:
    names = sorted(versions, key=_version_rank, reverse=True)
    entries: list[GroupVersion] = [{"groupVersion": f"{group}/{v}", "version": v} for v in names]
    preferred = names[0]
    return {
        "name": group,
        "versions": entries,
        "preferredVersion": {"groupVersion": f"{group}/{preferred}", "version": preferred},
    }


def api_group_list(types: list[ResourceType]) -> APIGroupList:
    groups = _by_group(types)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(g, groups[g]) for g in sorted(groups) if g != _LEGACY],
    }


def api_group(types: list[ResourceType], group: str) -> APIGroup | None:
    versions = _by_group(types).get(group)
    if not versions:
        return None
    return {**_group_entry(group, versions), "kind": "APIGroup", "apiVersion": "v1"}


def _resource_entries(rt: ResourceType) -> list[APIResource]:
    main: APIResource = {
        "name": rt.plural,
        "singularName": rt.singular or rt.kind.lower(),
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": VERBS,
    }
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    categories = list(rt.categories) or (["all"] if rt.key in _ALL else [])
    if categories:
        main["categories"] = categories
    entries = [main]
    if rt.has_status:
        entries.append(
            {
                "name": f"{rt.plural}/status",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": SUBRESOURCE_VERBS,
            }
        )
    if scale_paths(rt) is not None:
        entries.append(
            {
                "name": f"{rt.plural}/scale",
                "singularName": "",
                "namespaced": rt.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": SUBRESOURCE_VERBS,
            }
        )
    return entries


def resource_list(types: list[ResourceType], group: str, version: str) -> APIResourceList | None:
    chosen = sorted(
        (t for t in types if t.group == group and t.version == version), key=lambda t: t.plural
    )
    if not chosen:
        return None
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [e for rt in chosen for e in _resource_entries(rt)],
    }

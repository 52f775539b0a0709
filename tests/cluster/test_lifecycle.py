"""Deletion in the store: finalizers, garbage collection per propagation policy,
terminating namespaces and CRDs."""

from __future__ import annotations

from typing import Any

import pytest

from orkestra.cluster import ForbiddenError, MemoryCluster, NotFoundError
from tests.cluster.test_store import CRD, webapp

Obj = dict[str, Any]


@pytest.fixture
def cluster() -> MemoryCluster:
    c = MemoryCluster()
    c.create(CRD)
    return c


def config_map(
    name: str,
    owner: Obj | None = None,
    *,
    block: bool = False,
    namespace: str = "default",
    finalizers: list[str] | None = None,
) -> Obj:
    meta: Obj = {"name": name, "namespace": namespace}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "blockOwnerDeletion": block,
            }
        ]
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}


def names(cluster: MemoryCluster, namespace: str = "default") -> list[str]:
    return [o["metadata"]["name"] for o in cluster.list("v1", "ConfigMap", namespace)]


def test_background_deletes_dependents_and_grandchildren(cluster: MemoryCluster) -> None:
    owner = cluster.create(webapp(image="nginx"))
    child = cluster.create(config_map("child", owner))
    cluster.create(config_map("grandchild", child))
    cluster.create(config_map("bystander"))
    cluster.delete("demo.io/v1", "WebApp", "my-app", "default")
    assert names(cluster) == ["bystander"]


def test_a_dependent_with_another_live_owner_only_loses_the_reference(
    cluster: MemoryCluster,
) -> None:
    first = cluster.create(webapp("first", image="nginx"))
    second = cluster.create(webapp("second", image="nginx"))
    shared = config_map("shared", first)
    shared["metadata"]["ownerReferences"] += config_map("x", second)["metadata"]["ownerReferences"]
    cluster.create(shared)
    cluster.delete("demo.io/v1", "WebApp", "first", "default")
    kept = cluster.get("v1", "ConfigMap", "shared", "default")
    assert [r["name"] for r in kept["metadata"]["ownerReferences"]] == ["second"]
    cluster.delete("demo.io/v1", "WebApp", "second", "default")
    assert names(cluster) == []


def test_orphan_keeps_dependents_without_the_reference(cluster: MemoryCluster) -> None:
    owner = cluster.create(webapp(image="nginx"))
    cluster.create(config_map("child", owner))
    cluster.delete("demo.io/v1", "WebApp", "my-app", "default", propagation="Orphan")
    child = cluster.get("v1", "ConfigMap", "child", "default")
    assert "ownerReferences" not in child["metadata"]


def test_foreground_waits_for_blocking_dependents(cluster: MemoryCluster) -> None:
    owner = cluster.create(webapp(image="nginx"))
    cluster.create(config_map("child", owner, block=True, finalizers=["test/hold"]))
    cluster.delete("demo.io/v1", "WebApp", "my-app", "default", propagation="Foreground")
    waiting = cluster.get("demo.io/v1", "WebApp", "my-app", "default")
    assert waiting["metadata"]["deletionTimestamp"]
    assert waiting["metadata"]["finalizers"] == ["foregroundDeletion"]
    child = cluster.get("v1", "ConfigMap", "child", "default")
    assert child["metadata"]["deletionTimestamp"]
    cluster.update({**child, "metadata": {**child["metadata"], "finalizers": []}})
    with pytest.raises(NotFoundError):
        cluster.get("demo.io/v1", "WebApp", "my-app", "default")


def test_finalizers_hold_an_object_until_removed(cluster: MemoryCluster) -> None:
    app = webapp(image="nginx")
    app["metadata"]["finalizers"] = ["test/hold"]
    cluster.create(app)
    first = cluster.delete("demo.io/v1", "WebApp", "my-app", "default")
    again = cluster.delete("demo.io/v1", "WebApp", "my-app", "default")
    assert again["metadata"]["deletionTimestamp"] == first["metadata"]["deletionTimestamp"]
    assert again["metadata"]["generation"] == first["metadata"]["generation"] == 2
    cluster.patch("demo.io/v1", "WebApp", "my-app", {"metadata": {"finalizers": None}}, "default")
    assert cluster.list("demo.io/v1", "WebApp", None) == []


def test_config_maps_have_no_generation(cluster: MemoryCluster) -> None:
    made = cluster.create(config_map("plain"))
    changed = cluster.patch("v1", "ConfigMap", "plain", {"data": {"k": "w"}}, "default")
    assert "generation" not in made["metadata"] and "generation" not in changed["metadata"]


def test_a_namespace_terminates_until_its_content_is_gone(cluster: MemoryCluster) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    cluster.create(config_map("held", namespace="team", finalizers=["test/hold"]))
    cluster.create(config_map("free", namespace="team"))
    ns = cluster.delete("v1", "Namespace", "team")
    assert ns["status"]["phase"] == "Terminating"
    assert names(cluster, "team") == ["held"]
    with pytest.raises(ForbiddenError, match="being terminated"):
        cluster.create(config_map("late", namespace="team"))
    held = cluster.get("v1", "ConfigMap", "held", "team")
    cluster.update({**held, "metadata": {**held["metadata"], "finalizers": []}})
    with pytest.raises(NotFoundError):
        cluster.get("v1", "Namespace", "team")


def test_deleting_a_crd_takes_its_resources_and_stops_serving_them(cluster: MemoryCluster) -> None:
    cluster.create(webapp(image="nginx"))
    cluster.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "webapps.demo.io")
    with pytest.raises(NotFoundError, match='no matches for kind "WebApp"'):
        cluster.list("demo.io/v1", "WebApp", None)
    assert all(t.kind != "WebApp" for t in cluster.types())


def test_a_crd_waits_for_resources_with_finalizers(cluster: MemoryCluster) -> None:
    app = webapp(image="nginx")
    app["metadata"]["finalizers"] = ["demo.io/cleanup"]
    cluster.create(app)
    crd = cluster.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "webapps.demo.io")
    assert any(c["type"] == "Terminating" for c in crd["status"]["conditions"])
    held = cluster.get("demo.io/v1", "WebApp", "my-app", "default")
    cluster.update({**held, "metadata": {**held["metadata"], "finalizers": []}})
    with pytest.raises(NotFoundError):
        cluster.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "webapps.demo.io")


def test_crds_are_established_at_once(cluster: MemoryCluster) -> None:
    crd = cluster.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "webapps.demo.io")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["storedVersions"] == ["v1"]

"""The in-memory cluster keeps Kubernetes' semantics."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from orkestra.cluster import (
    AlreadyExistsError,
    ConflictError,
    InvalidError,
    MemoryCluster,
    NotFoundError,
)
from orkestra.cluster.data import clone

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "webapps.demo.io"},
    "spec": {
        "group": "demo.io",
        "scope": "Namespaced",
        "names": {"kind": "WebApp", "plural": "webapps"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["image"],
                                "properties": {
                                    "image": {"type": "string", "pattern": "^[a-z]"},
                                    "replicas": {
                                        "type": "integer",
                                        "default": 1,
                                        "minimum": 0,
                                        "maximum": 50,
                                    },
                                    "tier": {"type": "string", "enum": ["free", "paid"]},
                                    "labels": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "extra": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"ready": {"type": "boolean"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


def deployment(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {"replicas": 1, **spec},
    }


def webapp(name: str = "my-app", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "demo.io/v1",
        "kind": "WebApp",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


@pytest.fixture
def cluster() -> MemoryCluster:
    c = MemoryCluster()
    c.create(CRD)
    return c


def test_create_get_and_server_fields(cluster: MemoryCluster) -> None:
    made = cluster.create(deployment())
    meta = made["metadata"]
    assert meta["generation"] == 1 and meta["uid"] and meta["creationTimestamp"]
    assert int(meta["resourceVersion"]) > 0
    assert cluster.get("apps/v1", "Deployment", "web", "default") == made
    exists = re.escape('deployments.apps "web" already exists')
    with pytest.raises(AlreadyExistsError, match=exists):
        cluster.create(deployment())
    with pytest.raises(NotFoundError, match=re.escape('deployments.apps "nope" not found')):
        cluster.get("apps/v1", "Deployment", "nope", "default")


def test_the_system_clock_stamps_whole_seconds() -> None:
    cluster = MemoryCluster()
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = cluster.now()
    after = datetime.now(UTC).replace(microsecond=0)
    assert stamp in {f"{t:%Y-%m-%dT%H:%M:%SZ}" for t in (before, after)}
    made = cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert made["metadata"]["creationTimestamp"] >= stamp
    cluster.clock = lambda: datetime(2024, 5, 6, 7, 8, 9, 999, tzinfo=UTC)
    assert cluster.now() == "2024-05-06T07:08:09Z"


def test_writes_copy_what_they_are_given_and_reads_share_what_is_stored(
    cluster: MemoryCluster,
) -> None:
    given = deployment()
    made = cluster.create(given)
    given["spec"]["replicas"] = 99
    read = cluster.get("apps/v1", "Deployment", "web", "default")
    assert read["spec"]["replicas"] == 1
    assert read is made and cluster.list("apps/v1", "Deployment", "default")[0] is made
    updated = cluster.update({**read, "spec": {**read["spec"], "replicas": 2}})
    assert made["spec"]["replicas"] == 1 and updated["spec"]["replicas"] == 2


def test_namespaces_and_names_are_checked(cluster: MemoryCluster) -> None:
    with pytest.raises(NotFoundError, match='namespaces "team-x" not found'):
        cluster.create({**deployment(), "metadata": {"name": "a", "namespace": "team-x"}})
    with pytest.raises(InvalidError, match=re.escape('metadata.name: Invalid value: "Web_App"')):
        cluster.create(deployment("Web_App"))
    with pytest.raises(InvalidError, match="RFC 1123 label"):
        cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a.b"}})


def test_generation_moves_with_spec_only(cluster: MemoryCluster) -> None:
    made = clone(cluster.create(deployment()))
    made["metadata"]["labels"]["tier"] = "front"
    relabelled = clone(cluster.update(made))
    assert relabelled["metadata"]["generation"] == 1
    relabelled["spec"]["replicas"] = 3
    scaled = cluster.update(relabelled)
    assert scaled["metadata"]["generation"] == 2
    status = cluster.update_status({**scaled, "status": {"readyReplicas": 3}})
    assert status["metadata"]["generation"] == 2
    assert int(status["metadata"]["resourceVersion"]) > int(scaled["metadata"]["resourceVersion"])
    # a normal update cannot change the status of a type with a status subresource
    rewritten = {
        **status,
        "status": {"readyReplicas": 0},
        "spec": {**status["spec"], "replicas": 4},
    }
    assert cluster.update(rewritten)["status"] == {"readyReplicas": 3}


def test_unchanged_updates_do_not_bump_the_resource_version(cluster: MemoryCluster) -> None:
    made = cluster.create(deployment())
    again = cluster.update(made)
    assert again["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]


def test_resource_version_conflicts(cluster: MemoryCluster) -> None:
    made = cluster.create(deployment())
    first = dict(made, spec={"replicas": 2})
    cluster.update(first)
    stale = dict(made, spec={"replicas": 3})
    with pytest.raises(ConflictError, match="the object has been modified"):
        cluster.update(stale)
    stale["metadata"] = {k: v for k, v in stale["metadata"].items() if k != "resourceVersion"}
    assert cluster.update(stale)["spec"]["replicas"] == 3  # no precondition: last write wins


def test_merge_and_json_patches(cluster: MemoryCluster) -> None:
    cluster.create(deployment(template={"spec": {"containers": [{"name": "a"}]}}))
    patched = cluster.patch(
        "apps/v1",
        "Deployment",
        "web",
        {"metadata": {"labels": {"app": None, "x": "1"}}, "spec": {"replicas": 5}},
        "default",
    )
    assert patched["metadata"]["labels"] == {"x": "1"}
    assert patched["spec"]["replicas"] == 5
    patched = cluster.patch(
        "apps/v1",
        "Deployment",
        "web",
        [
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "b"}},
            {"op": "replace", "path": "/spec/replicas", "value": 2},
            {"op": "test", "path": "/spec/replicas", "value": 2},
            {"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations"},
            {"op": "remove", "path": "/metadata/annotations/x"},
        ],
        "default",
        patch_type="json",
    )
    assert [c["name"] for c in patched["spec"]["template"]["spec"]["containers"]] == ["a", "b"]
    assert patched["spec"]["replicas"] == 2 and patched["metadata"]["annotations"] == {}
    with pytest.raises(InvalidError, match="test failed"):
        cluster.patch(
            "apps/v1",
            "Deployment",
            "web",
            [{"op": "test", "path": "/spec/replicas", "value": 9}],
            "default",
            patch_type="json",
        )
    status = cluster.patch(
        "apps/v1",
        "Deployment",
        "web",
        {"status": {"readyReplicas": 2}},
        "default",
        subresource="status",
    )
    assert status["status"] == {"readyReplicas": 2}


def test_label_and_field_selectors(cluster: MemoryCluster) -> None:
    for name, labels in (
        ("a", {"app": "web", "tier": "front"}),
        ("b", {"app": "web"}),
        ("c", {"app": "db", "tier": "back"}),
    ):
        cluster.create(
            {
                **deployment(name),
                "metadata": {"name": name, "namespace": "default", "labels": labels},
            }
        )

    def names(**kw: Any) -> list[str]:
        return [o["metadata"]["name"] for o in cluster.list("apps/v1", "Deployment", **kw)]

    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app!=web") == ["c"]
    assert names(label_selector="tier in (front,back),app") == ["a", "c"]
    assert names(label_selector="tier notin (front)") == ["b", "c"]
    assert names(label_selector="!tier") == ["b"]
    assert names(
        label_selector={
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "Exists"}],
        }
    ) == ["a"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b,metadata.namespace=default") == ["a", "c"]


def test_owner_references_cascade(cluster: MemoryCluster) -> None:
    parent = cluster.create(webapp(image="nginx"))
    ref = {
        "apiVersion": "demo.io/v1",
        "kind": "WebApp",
        "name": "my-app",
        "uid": parent["metadata"]["uid"],
    }
    child = cluster.create(
        {
            **deployment("child"),
            "metadata": {"name": "child", "namespace": "default", "ownerReferences": [ref]},
        }
    )
    grandchild_ref = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "child",
        "uid": child["metadata"]["uid"],
    }
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "gc", "namespace": "default", "ownerReferences": [grandchild_ref]},
        }
    )
    cluster.create(deployment("unrelated"))
    cluster.delete("demo.io/v1", "WebApp", "my-app", "default")
    assert cluster.find("apps/v1", "Deployment", "child", "default") is None
    assert cluster.find("v1", "ConfigMap", "gc", "default") is None
    assert cluster.find("apps/v1", "Deployment", "unrelated", "default") is not None


def test_finalizers_hold_deletion(cluster: MemoryCluster) -> None:
    made = cluster.create(
        {
            **webapp(image="nginx"),
            "metadata": {
                "name": "my-app",
                "namespace": "default",
                "finalizers": ["demo.io/cleanup"],
            },
        }
    )
    deleting = cluster.delete("demo.io/v1", "WebApp", "my-app", "default")
    assert deleting["metadata"]["deletionTimestamp"]
    assert cluster.find("demo.io/v1", "WebApp", "my-app", "default") is not None
    current = cluster.get("demo.io/v1", "WebApp", "my-app", "default")
    with pytest.raises(InvalidError, match="no new finalizers"):
        cluster.update({**current, "metadata": {**current["metadata"], "finalizers": ["a", "b"]}})
    cluster.update({**current, "metadata": {**current["metadata"], "finalizers": []}})
    assert cluster.find("demo.io/v1", "WebApp", "my-app", "default") is None
    assert made["metadata"]["uid"]


def test_deleting_a_namespace_empties_it(cluster: MemoryCluster) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    cluster.create({**deployment(), "metadata": {"name": "web", "namespace": "team-a"}})
    cluster.delete("v1", "Namespace", "team-a")
    assert cluster.find("apps/v1", "Deployment", "web", "team-a") is None


def test_crd_defaulting_pruning_and_validation(cluster: MemoryCluster) -> None:
    made = cluster.create(
        webapp(image="nginx", unknown="x", labels={"a": "b"}, extra={"anything": {"goes": 1}})
    )
    assert made["spec"] == {
        "image": "nginx",
        "replicas": 1,
        "labels": {"a": "b"},
        "extra": {"anything": {"goes": 1}},
    }
    with pytest.raises(InvalidError) as exc:
        cluster.create(webapp("bad", image="Nginx", replicas=100, tier="gold", labels={"a": 1}))
    assert exc.value.details == [
        "spec.image: Invalid value: \"Nginx\": spec.image in body should match '^[a-z]'",
        "spec.replicas: Invalid value: 100: spec.replicas in body should be less than or "
        "equal to 50",
        'spec.tier: Unsupported value: "gold": supported values: "free", "paid"',
        'spec.labels.a: Invalid value: "int": spec.labels.a in body must be of type string: "int"',
    ]
    with pytest.raises(InvalidError, match=re.escape("spec.image: Required value")):
        cluster.create(webapp("empty"))
    with pytest.raises(InvalidError, match=re.escape("status.ready")):
        cluster.update_status({**made, "status": {"ready": "yes"}})


def test_unknown_kinds_fail_unless_lenient() -> None:
    obj = {"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}}
    with pytest.raises(NotFoundError, match='no matches for kind "Thing"'):
        MemoryCluster().create(obj)
    assert MemoryCluster(lenient_kinds=True).create(obj)["metadata"]["namespace"] == "default"


def test_operations_are_recorded(cluster: MemoryCluster) -> None:
    start = len(cluster.operations)
    made = cluster.create(deployment())
    cluster.get("apps/v1", "Deployment", "web", "default")
    cluster.list("apps/v1", "Deployment", "default")
    cluster.update_status({**made, "status": {"replicas": 1}})
    cluster.delete("apps/v1", "Deployment", "web", "default")
    assert [(o.verb, o.resource, o.name) for o in cluster.operations[start:]] == [
        ("create", "deployments", "web"),
        ("get", "deployments", "web"),
        ("list", "deployments", ""),
        ("update", "deployments/status", "web"),
        ("delete", "deployments", "web"),
    ]


def test_find_answers_none_for_what_get_would_refuse(cluster: MemoryCluster) -> None:
    made = cluster.create(deployment())
    start = len(cluster.operations)
    assert cluster.find("apps/v1", "Deployment", "web", "default") is made
    assert cluster.find("apps/v1", "Deployment", "nope", "default") is None
    assert cluster.find("nope.io/v1", "Nope", "web", "default") is None
    assert [(o.verb, o.resource, o.name) for o in cluster.operations[start:]] == [
        ("get", "deployments", "web"),
        ("get", "deployments", "nope"),
    ]


def test_watch_stream(cluster: MemoryCluster) -> None:
    since = cluster.resource_version
    made = cluster.create(deployment())
    cluster.update(dict(made, spec={"replicas": 2}))
    cluster.delete("apps/v1", "Deployment", "web", "default")
    events = cluster.events_since(since, group="apps", resource="deployments")
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert [e.resource_version for e in events] == sorted(e.resource_version for e in events)
    assert cluster.events_since(events[-1].resource_version) == []
    waited: list[Any] = []
    mark = cluster.resource_version
    thread = threading.Thread(
        target=lambda: waited.extend(cluster.wait_for_events(mark, 5.0, resource="configmaps"))
    )
    thread.start()
    cluster.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}
    )
    thread.join(5)
    assert [e.object["metadata"]["name"] for e in waited] == ["c"]


def test_services_get_a_cluster_ip(cluster: MemoryCluster) -> None:
    svc = cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "default"},
            "spec": {"ports": [{"port": 80}]},
        }
    )
    assert svc["spec"]["clusterIP"].startswith("10.96.0.")
    assert svc["spec"]["type"] == "ClusterIP"
    headless = cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "h", "namespace": "default"},
            "spec": {"clusterIP": "None"},
        }
    )
    assert headless["spec"]["clusterIP"] == "None"

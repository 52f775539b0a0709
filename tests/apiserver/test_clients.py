"""Real Python clients against the embedded API server: the official ``kubernetes``
client (typed APIs, custom objects, watch, DynamicClient) and lightkube (sync and async)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import dynamic, watch
from kubernetes.client.exceptions import ApiException
from lightkube import ApiError, AsyncClient, Client, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import CascadeType, PatchType

from orkestra.apiserver import EmbeddedServer
from tests.apiserver.conftest import wait_until, webapp

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
MERGE = "application/merge-patch+json"
WebApp = create_namespaced_resource("rkguide.demo", "v1", "WebApp", "webapps")


# The official client's models make every field Optional and its watch and dynamic modules
# are untyped: tests reach them through Any.
Watch: Any = watch.Watch
DynamicClient: Any = dynamic.DynamicClient
new_client_from_config: Any = k8s_config.new_client_from_config


@pytest.fixture(scope="module")
def api(server: EmbeddedServer) -> Iterator[Any]:
    api_client = new_client_from_config(config_file=str(server.kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture(scope="module")
def core(api: Any) -> Any:
    return k8s.CoreV1Api(api)


@pytest.fixture(scope="module")
def apps(api: Any) -> Any:
    return k8s.AppsV1Api(api)


@pytest.fixture(scope="module")
def custom(api: Any) -> Any:
    return k8s.CustomObjectsApi(api)


@pytest.fixture(scope="module")
def lightkube(server: EmbeddedServer) -> Iterator[Client]:
    lk = Client(config=KubeConfig.from_file(str(server.kubeconfig)), field_manager="tests")
    yield lk
    lk.close()


def cm_body(name: str, labels: dict[str, str] | None = None, **data: str) -> k8s.V1ConfigMap:
    return k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, labels=labels), data=data)


def deployment_body(name: str, replicas: int = 1) -> k8s.V1Deployment:
    labels = {"app": name}
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name=name, labels=labels),
        spec=k8s.V1DeploymentSpec(
            replicas=replicas,
            selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels),
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="app", image="nginx:1")]),
            ),
        ),
    )


# -- the official client --------------------------------------------------------------------


def test_official_core_crud(core: Any, ns: str) -> None:
    made, status, _ = core.create_namespaced_config_map_with_http_info(
        ns, cm_body("one", {"app": "x"}, a="1")
    )
    assert status == 201
    assert made.metadata.namespace == ns and made.metadata.uid
    assert made.metadata.resource_version and made.metadata.creation_timestamp
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map(ns, cm_body("one"))
    assert exists.value.status == 409 and "AlreadyExists" in str(exists.value.body)
    core.create_namespaced_config_map(ns, cm_body("two", {"app": "y"}))
    read = core.read_namespaced_config_map("one", ns)
    assert read.data == {"a": "1"} and read.metadata.uid == made.metadata.uid
    listed = core.list_namespaced_config_map(ns, label_selector="app=x")
    assert [i.metadata.name for i in listed.items] == ["one"]
    assert listed.metadata.resource_version
    listed = core.list_namespaced_config_map(ns, field_selector="metadata.name=two")
    assert [i.metadata.name for i in listed.items] == ["two"]
    everywhere = core.list_config_map_for_all_namespaces(label_selector="app in (x,y)")
    assert sorted(i.metadata.name for i in everywhere.items if i.metadata.namespace == ns) == [
        "one",
        "two",
    ]

    read.data["a"] = "2"
    replaced = core.replace_namespaced_config_map("one", ns, read)
    assert replaced.data == {"a": "2"}
    assert int(replaced.metadata.resource_version) > int(read.metadata.resource_version)
    read.data["a"] = "3"  # still carries the old resourceVersion
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("one", ns, read)
    assert stale.value.status == 409 and "the object has been modified" in str(stale.value.body)

    patched = core.patch_namespaced_config_map(
        "one", ns, {"data": {"b": "x", "a": None}}, _content_type=MERGE
    )
    assert patched.data == {"b": "x"}
    patched = core.patch_namespaced_config_map(
        "one", ns, [{"op": "add", "path": "/data/c", "value": "y"}]
    )
    assert patched.data == {"b": "x", "c": "y"}
    with pytest.raises(ApiException) as failed_test:
        core.patch_namespaced_config_map(
            "one",
            ns,
            [
                {"op": "test", "path": "/data/c", "value": "nope"},
                {"op": "add", "path": "/data/d", "value": "z"},
            ],
        )
    assert failed_test.value.status == 422
    assert "d" not in core.read_namespaced_config_map("one", ns).data

    deleted = core.delete_namespaced_config_map("one", ns)  # a Status, as a dict in v37
    assert deleted["kind"] == "Status" and deleted["status"] == "Success"
    assert deleted["details"] == {
        "name": "one",
        "group": "",
        "kind": "configmaps",
        "uid": made.metadata.uid,
    }
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("one", ns)
    assert gone.value.status == 404 and "NotFound" in str(gone.value.body)


def test_official_strategic_patch(core: Any, apps: Any, ns: str) -> None:
    core.create_namespaced_config_map(ns, cm_body("one", a="1"))
    patched = core.patch_namespaced_config_map("one", ns, {"data": {"a": None, "b": "2"}})
    assert patched.data == {"b": "2"}
    apps.create_namespaced_deployment(ns, deployment_body("web"))
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "log", "image": "fluent:1"}]}}}}
    web = apps.patch_namespaced_deployment("web", ns, patch)
    assert [c.name for c in web.spec.template.spec.containers] == ["log", "app"]


def test_official_namespaces(core: Any, ns: str) -> None:
    names = [n.metadata.name for n in core.list_namespace().items]
    assert {"default", "kube-system", ns} <= set(names)
    made = core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=f"{ns}-x")))
    assert made.status.phase == "Active"
    assert core.read_namespace(f"{ns}-x").metadata.uid == made.metadata.uid
    with pytest.raises(ApiException) as missing:
        core.create_namespaced_config_map("no-such-namespace", cm_body("c"))
    assert missing.value.status == 404
    core.delete_namespace(f"{ns}-x")
    wait_until(
        lambda: f"{ns}-x" not in [n.metadata.name for n in core.list_namespace().items],
        what="the namespace to go",
    )


def test_official_apps(apps: Any, core: Any, ns: str) -> None:
    made, status, _ = apps.create_namespaced_deployment_with_http_info(ns, deployment_body("web"))
    assert status == 201 and made.metadata.generation == 1
    assert made.spec.strategy.type == "RollingUpdate"  # built-in defaults
    wait_until(
        lambda: (
            (
                apps.read_namespaced_deployment_status("web", ns).status or k8s.V1DeploymentStatus()
            ).ready_replicas
            == 1
        ),
        what="the deployment to be ready",
    )
    scale = apps.patch_namespaced_deployment_scale(
        "web", ns, {"spec": {"replicas": 3}}, _content_type=MERGE
    )
    assert scale.spec.replicas == 3
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 3
    owner = k8s.V1OwnerReference(
        api_version="apps/v1", kind="Deployment", name="web", uid=made.metadata.uid
    )
    core.create_namespaced_config_map(
        ns, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="web-child", owner_references=[owner]))
    )
    apps.delete_namespaced_deployment("web", ns, propagation_policy="Foreground")
    wait_until(lambda: not apps.list_namespaced_deployment(ns).items, what="the deployment")
    assert not core.list_namespaced_config_map(ns, field_selector="metadata.name=web-child").items


def test_official_custom_objects(custom: Any, webapp_crd: Obj, ns: str) -> None:
    args = ("rkguide.demo", "v1", ns, "webapps")
    made = custom.create_namespaced_custom_object(*args, webapp("shop", ns))
    assert made is not None and made["metadata"]["uid"]  # 201, so the client returns it
    assert made["spec"]["port"] == 8080
    custom.create_namespaced_custom_object(
        *args, {**webapp("blog", ns), "metadata": {"name": "blog"}}
    )
    got = custom.get_namespaced_custom_object(*args, "shop")
    assert got["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]
    listed = custom.list_namespaced_custom_object(*args, label_selector="team=api")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["shop"]
    assert listed["kind"] == "WebAppList"
    patched = custom.patch_namespaced_custom_object(*args, "shop", {"spec": {"replicas": 4}})
    assert patched["spec"]["replicas"] == 4 and patched["metadata"]["generation"] == 2
    status = custom.patch_namespaced_custom_object_status(
        *args, "shop", {"status": {"phase": "Running"}, "spec": {"replicas": 9}}
    )
    assert status["status"] == {"phase": "Running"}
    assert status["spec"]["replicas"] == 4  # the status subresource ignores spec
    assert status["metadata"]["generation"] == 2
    stale = {**got, "spec": {**got["spec"], "replicas": 1}}
    with pytest.raises(ApiException) as conflict:
        custom.replace_namespaced_custom_object(*args, "shop", stale)
    assert conflict.value.status == 409
    with pytest.raises(ApiException) as invalid:
        custom.patch_namespaced_custom_object(*args, "shop", {"spec": {"replicas": 500}})
    assert invalid.value.status == 422 and "spec.replicas" in str(invalid.value.body)
    custom.delete_namespaced_custom_object(*args, "shop")
    with pytest.raises(ApiException) as gone:
        custom.get_namespaced_custom_object(*args, "shop")
    assert gone.value.status == 404


def test_official_watch_resumes_from_a_resource_version(core: Any, ns: str) -> None:
    core.create_namespaced_config_map(ns, cm_body("before"))
    start = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, cm_body("w", a="1"))
    core.patch_namespaced_config_map("w", ns, {"data": {"a": "2"}}, _content_type=MERGE)
    core.delete_namespaced_config_map("w", ns)
    seen = []
    stream = Watch()
    for event in stream.stream(
        core.list_namespaced_config_map, ns, resource_version=start, timeout_seconds=5
    ):
        seen.append(
            (event["type"], event["object"].metadata.name, (event["object"].data or {}).get("a"))
        )
        if len(seen) == 3:
            stream.stop()
    assert seen == [("ADDED", "w", "1"), ("MODIFIED", "w", "2"), ("DELETED", "w", "2")]


def test_official_watch_streams_live_events(core: Any, ns: str) -> None:
    """Objects created before the watch is registered come as its initial ADDED events,
    later ones live: either way each exactly once."""
    stream = Watch()
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        for event in stream.stream(
            core.list_namespaced_config_map, ns, timeout_seconds=10, _request_timeout=15
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if event["object"].metadata.name == "end":
                stream.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    for name in ("a", "b", "end"):
        core.create_namespaced_config_map(ns, cm_body(name))
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "end")]


def test_dynamic_client_discovers_builtins_and_crds(api: Any, webapp_crd: Obj, ns: str) -> None:
    dyn = DynamicClient(api)
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    configmaps.create(body=cm_body("dyn", a="1").to_dict(), namespace=ns)
    assert [i.metadata.name for i in configmaps.get(namespace=ns).items] == ["dyn"]
    webapps = dyn.resources.get(api_version="rkguide.demo/v1", kind="WebApp")
    assert webapps.namespaced and webapps.name == "webapps"
    webapps.create(body=webapp("dyn", ns), namespace=ns)
    got = webapps.get(name="dyn", namespace=ns)
    assert got.spec.image == "ghcr.io/orkspace/demo-web:1.0.0"
    assert "status" in webapps.subresources
    webapps.status.patch(
        body={"status": {"phase": "Up"}}, name="dyn", namespace=ns, content_type=MERGE
    )
    assert webapps.get(name="dyn", namespace=ns).status.phase == "Up"
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert "scale" in deployments.subresources


# -- lightkube -----------------------------------------------------------------------------


def lk_deployment(name: str, ns: str) -> Deployment:
    labels = {"app": name}
    return Deployment(
        metadata=ObjectMeta(name=name, namespace=ns, labels=labels),
        spec=DeploymentSpec(
            selector=LabelSelector(matchLabels=labels),
            replicas=1,
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=labels),
                spec=PodSpec(containers=[Container(name="app", image="nginx:1")]),
            ),
        ),
    )


def status_of(generic: Any) -> Any:
    """A generic resource's status (lightkube types it loosely)."""
    return generic.status


def test_lightkube_crud(lightkube: Client, ns: str) -> None:
    made = lightkube.create(
        ConfigMap(
            metadata=ObjectMeta(name="lk", namespace=ns, labels={"lk": "yes"}), data={"a": "1"}
        )
    )
    assert made.metadata is not None and made.metadata.uid
    got = lightkube.get(ConfigMap, "lk", namespace=ns)
    assert got.data == {"a": "1"}
    assert [
        c.metadata.name
        for c in lightkube.list(ConfigMap, namespace=ns, labels={"lk": "yes"})
        if c.metadata
    ] == ["lk"]
    got.data = {"a": "2"}
    replaced = lightkube.replace(got)
    assert replaced.data == {"a": "2"}
    with pytest.raises(ApiError) as stale:
        lightkube.replace(got)  # got still has the old resourceVersion
    assert stale.value.status.code == 409
    patched = lightkube.patch(
        ConfigMap, "lk", {"data": {"b": "3"}}, namespace=ns, patch_type=PatchType.MERGE
    )
    assert patched.data == {"a": "2", "b": "3"}
    patched = lightkube.patch(
        ConfigMap,
        "lk",
        [{"op": "remove", "path": "/data/a"}],
        namespace=ns,
        patch_type=PatchType.JSON,
    )
    assert patched.data == {"b": "3"}
    lightkube.delete(ConfigMap, "lk", namespace=ns)
    with pytest.raises(ApiError) as gone:
        lightkube.get(ConfigMap, "lk", namespace=ns)
    assert gone.value.status.code == 404


def test_lightkube_paging_and_cascade(lightkube: Client, ns: str) -> None:
    for i in range(5):
        lightkube.create(ConfigMap(metadata=ObjectMeta(name=f"p{i}", namespace=ns)))
    names = [
        c.metadata.name for c in lightkube.list(ConfigMap, namespace=ns, chunk_size=2) if c.metadata
    ]
    assert names == [f"p{i}" for i in range(5)]
    lightkube.create(lk_deployment("web", ns))
    lightkube.delete(Deployment, "web", namespace=ns, cascade=CascadeType.FOREGROUND)
    wait_until(lambda: not list(lightkube.list(Deployment, namespace=ns)), what="deletion")


def test_lightkube_strategic_patch(lightkube: Client, ns: str) -> None:
    lightkube.create(lk_deployment("web", ns))
    patched = lightkube.patch(
        Deployment,
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}},
        namespace=ns,
    )
    assert patched.spec is not None and patched.spec.template.spec is not None
    assert [c.image for c in patched.spec.template.spec.containers] == ["nginx:2"]


def test_lightkube_generic_resource_and_status(lightkube: Client, webapp_crd: Obj, ns: str) -> None:
    made = lightkube.create(WebApp.from_dict(webapp("lk", ns)))
    assert made.spec["port"] == 8080 and made.metadata is not None
    got = lightkube.get(WebApp, "lk", namespace=ns)
    assert got.metadata is not None and got.metadata.uid == made.metadata.uid
    patched = lightkube.patch(
        WebApp.Status,
        "lk",
        {"status": {"phase": "Running"}},
        namespace=ns,
        patch_type=PatchType.MERGE,
    )
    assert status_of(patched) == {"phase": "Running"}
    again = lightkube.patch(
        WebApp, "lk", {"spec": {"replicas": 3}}, namespace=ns, patch_type=PatchType.MERGE
    )
    assert status_of(again) == {"phase": "Running"} and again.spec["replicas"] == 3
    assert [w.metadata.name for w in lightkube.list(WebApp, namespace=ns) if w.metadata] == ["lk"]
    lightkube.delete(WebApp, "lk", namespace=ns)


def test_lightkube_watch_resumes(lightkube: Client, ns: str) -> None:
    lightkube.create(ConfigMap(metadata=ObjectMeta(name="first", namespace=ns)))
    listing = lightkube.list(ConfigMap, namespace=ns)
    list(listing)
    start = listing.resourceVersion
    lightkube.create(ConfigMap(metadata=ObjectMeta(name="second", namespace=ns)))
    lightkube.delete(ConfigMap, "first", namespace=ns)
    seen = []
    for kind, obj in lightkube.watch(
        ConfigMap, namespace=ns, resource_version=start, server_timeout=5
    ):
        assert obj.metadata is not None
        seen.append((kind, obj.metadata.name))
        if len(seen) == 2:
            break
    assert seen == [("ADDED", "second"), ("DELETED", "first")]


def test_lightkube_async(server: EmbeddedServer, webapp_crd: Obj, ns: str) -> None:
    async def scenario() -> list[tuple[str, str]]:
        lk = AsyncClient(config=KubeConfig.from_file(str(server.kubeconfig)))
        try:
            await lk.create(
                ConfigMap(metadata=ObjectMeta(name="a1", namespace=ns), data={"x": "1"})
            )
            got = await lk.get(ConfigMap, "a1", namespace=ns)
            assert got.data == {"x": "1"}
            got.data = {"x": "2"}
            await lk.replace(got)
            await lk.patch(
                ConfigMap, "a1", {"data": {"y": "3"}}, namespace=ns, patch_type=PatchType.MERGE
            )
            listing = lk.list(ConfigMap, namespace=ns)
            names = [c.metadata.name async for c in listing if c.metadata]
            assert names == ["a1"]
            start = listing.resourceVersion
            await lk.create(WebApp.from_dict(webapp("async", ns)))
            await lk.patch(
                WebApp.Status,
                "async",
                {"status": {"ready": True}},
                namespace=ns,
                patch_type=PatchType.MERGE,
            )
            seen: list[tuple[str, str]] = []

            async def watch_them() -> None:
                async for kind, obj in lk.watch(
                    ConfigMap, namespace=ns, server_timeout=10, resource_version=start
                ):
                    seen.append((kind, str(obj.metadata.name if obj.metadata else "")))
                    if kind == "DELETED":
                        return

            watcher = asyncio.create_task(watch_them())
            await lk.delete(ConfigMap, "a1", namespace=ns)
            await asyncio.wait_for(watcher, 10)
            cr = await lk.get(WebApp, "async", namespace=ns)
            assert status_of(cr) == {"ready": True}
            return seen
        finally:
            await lk.close()

    assert asyncio.run(scenario()) == [("DELETED", "a1")]


def test_official_generate_name_dry_run_and_delete_collection(core: Any, ns: str) -> None:
    for _ in range(3):
        made = core.create_namespaced_config_map(
            ns,
            k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(generate_name="gen-", labels={"batch": "1"})),
        )
        assert made.metadata.name.startswith("gen-") and len(made.metadata.name) > 4
    dry = core.create_namespaced_config_map(ns, cm_body("dry"), dry_run="All")
    assert dry.metadata.name == "dry"
    assert not core.list_namespaced_config_map(ns, field_selector="metadata.name=dry").items
    assert len(core.list_namespaced_config_map(ns, label_selector="batch").items) == 3
    core.delete_collection_namespaced_config_map(ns, label_selector="batch=1")
    assert core.list_namespaced_config_map(ns, label_selector="batch").items == []


def test_lightkube_leases_and_server_side_apply(
    lightkube: Client, server: EmbeddedServer, ns: str
) -> None:
    """What leader election and an applying controller do."""
    lease = lightkube.create(
        Lease(
            metadata=ObjectMeta(name="leader", namespace=ns),
            spec=LeaseSpec(holderIdentity="a", leaseDurationSeconds=15),
        )
    )
    fresh = lightkube.get(Lease, "leader", namespace=ns)
    assert fresh.spec is not None
    fresh.spec.holderIdentity = "b"
    lightkube.replace(fresh)
    assert lease.spec is not None
    lease.spec.holderIdentity = "c"  # a stale copy loses the race
    with pytest.raises(ApiError) as lost:
        lightkube.replace(lease)
    assert lost.value.status.code == 409
    held = lightkube.get(Lease, "leader", namespace=ns).spec
    assert held is not None and held.holderIdentity == "b"

    applied = lightkube.apply(
        ConfigMap(metadata=ObjectMeta(name="ssa", namespace=ns), data={"a": "1"})
    )
    assert applied.data == {"a": "1"} and applied.metadata is not None
    assert [(m.manager, m.operation) for m in applied.metadata.managedFields or []] == [
        ("tests", "Apply")
    ]
    other = Client(config=KubeConfig.from_file(str(server.kubeconfig)), field_manager="other")
    with pytest.raises(ApiError) as conflict:
        other.apply(ConfigMap(metadata=ObjectMeta(name="ssa", namespace=ns), data={"a": "2"}))
    assert conflict.value.status.code == 409
    forced = other.apply(
        ConfigMap(metadata=ObjectMeta(name="ssa", namespace=ns), data={"a": "2"}), force=True
    )
    assert forced.data == {"a": "2"}
    other.close()


def test_official_paging_is_a_consistent_snapshot(core: Any, ns: str) -> None:
    for i in range(4):
        core.create_namespaced_config_map(ns, cm_body(f"p{i}"))
    first = core.list_namespaced_config_map(ns, limit=2)
    assert [i.metadata.name for i in first.items] == ["p0", "p1"]
    assert first.metadata.remaining_item_count == 2
    core.delete_namespaced_config_map("p3", ns)
    core.create_namespaced_config_map(ns, cm_body("p25"))
    rest = core.list_namespaced_config_map(ns, limit=2, _continue=first.metadata._continue)
    assert [i.metadata.name for i in rest.items] == ["p2", "p3"]
    assert rest.metadata.resource_version == first.metadata.resource_version


def test_official_configmaps_have_no_generation(core: Any, apps: Any, ns: str) -> None:
    made = core.create_namespaced_config_map(ns, cm_body("plain", a="1"))
    assert made.metadata.generation is None
    assert apps.create_namespaced_deployment(ns, deployment_body("web")).metadata.generation == 1

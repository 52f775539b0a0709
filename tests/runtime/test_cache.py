"""CachedCluster: reads from the stores, writes to the API with write-through, and the
failures it turns into a retry instead of handing them to the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from orkestra.cluster import MemoryCluster
from orkestra.cluster.data import clone
from orkestra.cluster.errors import (
    ConflictError,
    InvalidError,
    NotFoundError,
    ServiceUnavailableError,
)
from orkestra.runtime.cache import CachedCluster, Retry
from orkestra.runtime.informer import Informer
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.pattern import Unit
from orkestra.runtime.store import Change, resource_version
from tests.conftest import PACK
from tests.runtime.fakes import FakeClient, FakeInformers

Obj = dict[str, Any]
CM = ("v1", "ConfigMap")


def config_map(name: str, namespace: str = "default", **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"k": "v"},
    }


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster(record=False)


@pytest.fixture
def client(cluster: MemoryCluster) -> FakeClient:
    return FakeClient(cluster)


def _load(path: Path) -> Obj:
    data: Obj = yaml.safe_load(path.read_text())
    return data


def cached(client: FakeClient, *kinds: tuple[str, str]) -> tuple[CachedCluster, FakeInformers]:
    informers = FakeInformers(client, list(kinds))
    return CachedCluster(client, informers), informers  # type: ignore[arg-type]


def test_reads_of_cached_kinds_never_reach_the_api(client: FakeClient) -> None:
    client.cluster.create(config_map("a", owner="x"))
    view, _ = cached(client, CM)
    assert view.find("v1", "ConfigMap", "a", "default") is not None
    assert view.find("v1", "ConfigMap", "b", None) is None
    assert client.calls == []


def test_kinds_not_cached_are_read_live(client: FakeClient) -> None:
    client.cluster.create(config_map("a"))
    view, _ = cached(client)
    assert view.find("v1", "ConfigMap", "a", "default") is not None
    assert view.find("v1", "ConfigMap", "zz", "default") is None
    assert [o["metadata"]["name"] for o in view.list("v1", "ConfigMap", "default")] == ["a"]
    assert [c[0] for c in client.calls] == ["get", "get", "list"]


def test_lists_use_the_owner_index_and_filter_like_the_api(client: FakeClient) -> None:
    for name, namespace, owner in (("b", "ns1", "x"), ("a", "default", "x"), ("c", "default", "y")):
        if namespace != "default" and client.cluster.find("v1", "Namespace", namespace) is None:
            client.cluster.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )
        client.cluster.create(config_map(name, namespace, **{"orkestra-owner": owner}))
    view, _ = cached(client, CM)
    names = [
        o["metadata"]["name"]
        for o in view.list("v1", "ConfigMap", None, label_selector="orkestra-owner=x")
    ]
    assert names == ["a", "b"]
    assert [
        o["metadata"]["name"]
        for o in view.list("v1", "ConfigMap", "default", label_selector="orkestra-owner=x")
    ] == ["a"]
    assert [
        o["metadata"]["name"]
        for o in view.list("v1", "ConfigMap", None, label_selector="orkestra-owner!=x")
    ] == ["c"]
    assert (
        view.list("v1", "ConfigMap", None, field_selector="metadata.name=c")[0]["metadata"]["name"]
        == "c"
    )


def test_a_write_is_visible_to_the_next_read_at_once(client: FakeClient) -> None:
    view, informers = cached(client, CM)
    created = view.create(config_map("a"))
    assert view.find("v1", "ConfigMap", "a", "default") == created
    updated = view.update({**created, "data": {"k": "w"}})
    assert informers.store(*CM).get(("default", "a")) == updated
    assert view.find("v1", "ConfigMap", "a", "default") == updated
    assert [(w.verb, w.name) for w in view.writes] == [("create", "a"), ("update", "a")]


def test_write_through_never_replaces_a_newer_version(client: FakeClient) -> None:
    view, informers = cached(client, CM)
    created = view.create(config_map("a"))
    newer = client.cluster.update({**created, "data": {"k": "newer"}})
    informers.store(*CM).upsert(newer)  # the watch was faster than the write's answer
    informers.store(*CM).upsert(created)  # the late write-through of the older answer
    held = informers.store(*CM).get(("default", "a"))
    assert held is not None and held["data"] == {"k": "newer"}


def test_echoes_that_overtake_the_writes_answer_change_nothing(client: FakeClient) -> None:
    """The server's watch event of a write reaches the informer before the worker stores
    the write's answer (here: synchronously, from inside the write): it waits, and is then
    recognised as the echo it is, for creates, updates and deletes alike."""
    view, informers = cached(client, CM)
    res, store = informers.stores[CM]
    informer = Informer(client=client, resource=res, store=store, metrics=RuntimeMetrics())  # type: ignore[arg-type]
    changes: list[Change] = []
    informer.subscribe(changes.append)
    client.cluster.subscribe(
        lambda e: informer.apply(msgspec.json.encode({"type": e.type, "object": e.object}))
    )
    created = view.create(config_map("a"))
    view.update({**created, "data": {"k": "w"}})
    view.delete("v1", "ConfigMap", "a", "default")
    assert changes == []
    client.cluster.create(config_map("b"))  # someone else's write
    assert [(c.type, c.obj["metadata"]["name"]) for c in changes] == [("ADDED", "b")]


def test_what_a_write_changes_reaches_the_other_controllers_handlers_at_once(
    client: FakeClient,
) -> None:
    """Its watch echo will be dropped as held already, so a controller watching what
    another one writes would not hear of it; the writer's own handlers are left out."""
    informers = FakeInformers(client, [CM])
    res, store = informers.stores[CM]
    informer = Informer(client=client, resource=res, store=store, metrics=RuntimeMetrics())  # type: ignore[arg-type]
    informers.informers[CM] = informer
    seen: dict[str, list[tuple[str, str]]] = {"writer": [], "other": []}
    for origin, changes in seen.items():
        informer.subscribe(
            lambda c, changes=changes: changes.append((c.type, c.obj["metadata"]["name"])),
            origin=origin,
        )
    view = CachedCluster(client, informers, origin="writer")  # type: ignore[arg-type]
    created = view.create(config_map("a"))
    view.update({**created, "data": {"k": "w"}})
    view.delete("v1", "ConfigMap", "a", "default")
    assert seen == {"writer": [], "other": [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]}
    stale = view.create(config_map("b"))
    client.cluster.update({**stale, "data": {"k": "elsewhere"}})  # somebody else's write
    with pytest.raises(Retry):
        view.update({**stale, "data": {"k": "mine"}})  # 409: the cache reads it back
    assert seen["writer"] == [("MODIFIED", "b")]  # what was read back is news to everyone
    assert seen["other"][-2:] == [("ADDED", "b"), ("MODIFIED", "b")]


def test_a_conflict_refreshes_the_object_and_asks_for_a_retry(client: FakeClient) -> None:
    created = client.cluster.create(config_map("a"))
    view, informers = cached(client, CM)
    changed = client.cluster.update({**created, "data": {"k": "elsewhere"}})
    with pytest.raises(Retry) as caught:
        view.update({**created, "data": {"k": "mine"}})  # the stale resourceVersion
    assert caught.value.conflict
    held = informers.store(*CM).get(("default", "a"))
    assert held is not None and resource_version(held) == resource_version(changed)
    assert not isinstance(caught.value, ConflictError)  # the engine must not see it


def test_already_exists_refreshes_the_cache_and_asks_for_a_retry(client: FakeClient) -> None:
    view, informers = cached(client, CM)
    client.cluster.create(config_map("a"))  # created behind the (stale) cache's back
    with pytest.raises(Retry):
        view.create(config_map("a"))
    assert informers.store(*CM).get(("default", "a")) is not None
    assert len(client.cluster.list("v1", "ConfigMap", "default")) == 1


def test_a_write_to_a_vanished_object_drops_it_from_the_cache(client: FakeClient) -> None:
    created = client.cluster.create(config_map("a"))
    view, informers = cached(client, CM)
    client.cluster.delete("v1", "ConfigMap", "a", "default")
    with pytest.raises(Retry):
        view.update(created)
    assert informers.store(*CM).get(("default", "a")) is None


def test_an_unavailable_server_asks_for_a_retry(client: FakeClient) -> None:
    view, _ = cached(client, CM)
    client.failures["create"] = [ServiceUnavailableError("injected")]
    with pytest.raises(Retry):
        view.create(config_map("a"))


def test_other_api_errors_reach_the_engine_as_they_would_in_simulate(client: FakeClient) -> None:
    view, _ = cached(client, CM)
    client.failures["create"] = [InvalidError("spec.x: Invalid value")]
    with pytest.raises(InvalidError):
        view.create(config_map("a"))


def test_a_deleted_object_leaves_the_cache_and_stays_gone(client: FakeClient) -> None:
    created = client.cluster.create(config_map("a"))
    view, informers = cached(client, CM)
    view.delete("v1", "ConfigMap", "a", "default")
    store = informers.store(*CM)
    assert store.get(("default", "a")) is None
    assert store.upsert(created) is None  # a late event of the version before deletion
    view.delete("v1", "ConfigMap", "a", "default")  # already gone: fine
    assert [w.verb for w in view.writes] == ["delete", "delete"]


def test_an_object_held_by_finalizers_stays_cached_with_its_deletion_mark(
    client: FakeClient,
) -> None:
    obj = config_map("a")
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    client.cluster.create(obj)
    view, informers = cached(client, CM)
    view.delete("v1", "ConfigMap", "a", "default")
    held = informers.store(*CM).get(("default", "a"))
    assert held is not None and held["metadata"].get("deletionTimestamp")


def test_status_goes_through_the_subresource_when_the_type_has_one(
    client: FakeClient, cluster: MemoryCluster
) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})
    namespace = client.cluster.get("v1", "Namespace", "x")
    view, _ = cached(client, ("v1", "Namespace"))
    view.update_status({**namespace, "status": {"phase": "Active"}})
    view.update_status({**client.cluster.create(config_map("a")), "data": {"k": "w"}})
    assert [c[0] for c in client.calls] == ["status", "update"]


def test_the_engine_never_mutates_what_the_cache_hands_out(
    client: FakeClient, cluster: MemoryCluster
) -> None:
    unit = Unit.load(PACK / "02-katalog-api" / "katalog.yaml")
    for crd in unit.composed.crd_manifests.values():
        cluster.create(crd)
    cr = cluster.create(_load(PACK / "02-katalog-api" / "cr-with-ingress.yaml"))
    kinds = [
        ("rkguide.demo/v1", "WebApp"),
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("networking.k8s.io/v1", "Ingress"),
    ]
    view, informers = cached(client, *kinds)
    reconciler = unit.reconciler("webapp", view)
    for _ in range(3):
        snapshot = {k: clone(s.items()) for k, (_, s) in informers.stores.items()}
        result = reconciler.reconcile(cr["metadata"]["name"], "default")
        assert result.error is None
        for key, (_, store) in informers.stores.items():
            before = {o["metadata"]["name"]: o for o in snapshot[key]}
            for obj in store.items():
                old = before.get(obj["metadata"]["name"])
                if old is not None and resource_version(old) == resource_version(obj):
                    assert old == obj, f"{key} {obj['metadata']['name']} was mutated"
    assert {o["metadata"]["name"] for o in cluster.list("apps/v1", "Deployment", None)} == {
        "my-webapp"
    }


def test_kinds_the_server_does_not_serve_are_api_errors(client: FakeClient) -> None:
    view, _ = cached(client)
    with pytest.raises(NotFoundError):
        view.find("example.com/v1", "Nothing", "a", "default")


def test_a_reconcile_decodes_each_stored_version_once_and_the_next_one_afresh(
    client: FakeClient,
) -> None:
    client.cluster.create(config_map("a", **{"orkestra-owner": "x"}))
    view, informers = cached(client, CM)
    view.begin()
    found = view.find("v1", "ConfigMap", "a", "default")
    listed = view.list("v1", "ConfigMap", None, label_selector="orkestra-owner=x")
    assert listed == [found] and listed[0] is found  # one object within a reconcile
    view.begin()  # the next reconcile
    again = view.find("v1", "ConfigMap", "a", "default")
    assert again == found and again is not found
    assert found is not None
    found["data"]["k"] = "changed by a reader"  # stays in that reader's copy
    assert informers.store(*CM).get(("default", "a")) == again
    updated = view.update({**again, "data": {"k": "w"}})
    fresh = view.find("v1", "ConfigMap", "a", "default")  # same reconcile, new version
    assert fresh == updated and fresh is not again


def test_owner_index_lists_honour_the_rest_of_the_selector(client: FakeClient) -> None:
    client.cluster.create(config_map("a", **{"orkestra-owner": "x", "tier": "web"}))
    client.cluster.create(config_map("b", **{"orkestra-owner": "x", "tier": "db"}))
    view, _ = cached(client, CM)
    names = [
        o["metadata"]["name"]
        for o in view.list("v1", "ConfigMap", None, label_selector="orkestra-owner=x,tier=db")
    ]
    assert names == ["b"]
    assert [
        o["metadata"]["name"]
        for o in view.list("v1", "ConfigMap", "elsewhere", label_selector="orkestra-owner=x")
    ] == []
    assert [
        o["metadata"]["name"]
        for o in view.list(
            "v1",
            "ConfigMap",
            None,
            label_selector="orkestra-owner=x",
            field_selector="metadata.name=a",
        )
    ] == ["a"]

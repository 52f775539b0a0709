"""The informer store: resourceVersion ordering, tombstones, relists, indexes."""

from __future__ import annotations

from typing import Any

from orkestra.runtime.store import Store, label_indexer, resource_version

Obj = dict[str, Any]


def obj(name: str, rv: int | str, namespace: str = "default", **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": str(rv),
                         "labels": labels}}


def test_a_newer_version_replaces_an_older_one_never_the_reverse() -> None:
    store = Store()
    assert store.upsert(obj("a", 5)) is not None
    assert store.upsert(obj("a", 4)) is None
    assert store.upsert(obj("a", 5)) is None  # the echo of what is held changes nothing
    change = store.upsert(obj("a", 7))
    assert change is not None and change.type == "MODIFIED"
    assert change.old is not None and resource_version(change.old) == 5
    assert resource_version(store.get(("default", "a")) or {}) == 7


def test_a_stale_deletion_does_not_remove_a_newer_object() -> None:
    store = Store()
    store.upsert(obj("a", 9))
    assert store.remove(obj("a", 8)) is None
    assert store.get(("default", "a")) is not None
    change = store.remove(obj("a", 10))
    assert change is not None and change.type == "DELETED"
    assert store.get(("default", "a")) is None


def test_a_tombstone_keeps_late_events_from_bringing_a_deleted_object_back() -> None:
    store = Store()
    store.upsert(obj("a", 5))
    store.remove(obj("a", 6), tombstone=True)
    assert store.upsert(obj("a", 6)) is None  # the late MODIFIED of our own write
    assert store.get(("default", "a")) is None
    assert store.upsert(obj("a", 12)) is not None  # created again, later
    assert store.get(("default", "a")) is not None


def test_versions_that_are_not_numbers_always_count_as_newer() -> None:
    store = Store()
    store.upsert(obj("a", 5))
    assert store.upsert(obj("a", "")) is not None


def test_a_relist_deletes_what_the_list_lacks_unless_the_store_is_newer() -> None:
    store = Store()
    store.upsert(obj("gone", 3))
    store.upsert(obj("kept", 4))
    store.upsert(obj("written", 30))  # write-through after the list was taken
    changes = store.replace([obj("kept", 4), obj("new", 8)], 20)
    assert sorted((c.type, c.obj["metadata"]["name"]) for c in changes) == [
        ("ADDED", "new"), ("DELETED", "gone")]
    assert [o["metadata"]["name"] for o in store.items()] == ["kept", "new", "written"]


def test_items_and_index_lookups_are_sorted_by_namespace_and_name() -> None:
    store = Store({"owner": label_indexer("owner")})
    store.upsert(obj("b", 1, "ns2", owner="x"))
    store.upsert(obj("c", 2, "ns1", owner="x"))
    store.upsert(obj("a", 3, "ns2", owner="y"))
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in store.items()] == [
        ("ns1", "c"), ("ns2", "a"), ("ns2", "b")]
    assert [o["metadata"]["name"] for o in store.by_index("owner", "x")] == ["c", "b"]
    assert [o["metadata"]["name"] for o in store.items("ns2")] == ["a", "b"]


def test_indexes_follow_label_changes_and_deletions() -> None:
    store = Store({"owner": label_indexer("owner")})
    store.upsert(obj("a", 1, owner="x"))
    store.upsert(obj("a", 2, owner="y"))
    assert store.by_index("owner", "x") == []
    assert [o["metadata"]["name"] for o in store.by_index("owner", "y")] == ["a"]
    store.remove(obj("a", 3))
    assert store.by_index("owner", "y") == []
    assert len(store) == 0

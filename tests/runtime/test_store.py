"""The informer store: resourceVersion ordering, tombstones, relists, indexes."""

from __future__ import annotations

from typing import Any

from orkestra.runtime.store import Store, label_indexer, resource_version

Obj = dict[str, Any]


def obj(name: str, rv: int | str, namespace: str = "default", **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "resourceVersion": str(rv),
            "labels": labels,
        },
    }


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
        ("ADDED", "new"),
        ("DELETED", "gone"),
    ]
    assert [o["metadata"]["name"] for o in store.items()] == ["kept", "new", "written"]


def test_items_and_index_lookups_are_sorted_by_namespace_and_name() -> None:
    store = Store({"owner": label_indexer("owner")})
    store.upsert(obj("b", 1, "ns2", owner="x"))
    store.upsert(obj("c", 2, "ns1", owner="x"))
    store.upsert(obj("a", 3, "ns2", owner="y"))
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in store.items()] == [
        ("ns1", "c"),
        ("ns2", "a"),
        ("ns2", "b"),
    ]
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


def test_objects_are_kept_encoded_without_managed_fields_and_read_as_fresh_copies() -> None:
    store = Store()
    written = obj("a", 5)
    written["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    store.upsert(written)
    assert "managedFields" in written["metadata"]  # the caller's object is left alone
    first, second = store.get(("default", "a")), store.get(("default", "a"))
    assert first == second and first is not second
    assert first is not None and "managedFields" not in first["metadata"]
    first["metadata"]["labels"]["changed"] = "by a reader"
    assert store.get(("default", "a")) == second  # a reader's change stays its own
    raw = store.get_raw(("default", "a"))
    assert raw is store.get_raw(("default", "a"))  # the same bytes until the object changes
    store.upsert(obj("a", 6))
    assert store.get_raw(("default", "a")) is not raw


def test_holds_tells_which_versions_would_change_nothing() -> None:
    store = Store()
    store.upsert(obj("a", 5))
    assert store.holds(("default", "a"), 5) and store.holds(("default", "a"), 4)
    assert not store.holds(("default", "a"), 6)
    assert not store.holds(("default", "a"), -1)  # no number: always news
    assert not store.holds(("default", "b"), 1)
    store.remove(obj("b", 9), tombstone=True)
    assert store.holds(("default", "b"), 9) and not store.holds(("default", "b"), 10)


def test_a_change_decodes_the_previous_object_only_when_asked() -> None:
    store = Store()
    store.upsert(obj("a", 1, owner="x"))
    change = store.upsert(obj("a", 2, owner="y"))
    assert change is not None and change.type == "MODIFIED"
    assert change.old is not None and change.old["metadata"]["labels"] == {"owner": "x"}
    assert change.old is change.old  # decoded once
    deleted = store.remove(obj("a", 3))
    assert deleted is not None and deleted.obj == deleted.old
    assert deleted.obj["metadata"]["resourceVersion"] == "2"  # what was held


def test_index_entries_go_from_one_holder_to_several_and_back() -> None:
    store = Store({"owner": label_indexer("owner")})
    store.upsert(obj("a", 1, owner="x"))
    store.upsert(obj("b", 2, owner="x"))
    store.upsert(obj("c", 3, owner="x"))
    assert [o["metadata"]["name"] for o in store.by_index("owner", "x")] == ["a", "b", "c"]
    store.remove(obj("b", 4))
    store.upsert(obj("c", 5, owner="z"))  # moves to another value
    assert [o["metadata"]["name"] for o in store.by_index("owner", "x")] == ["a"]
    assert [o["metadata"]["name"] for o in store.by_index("owner", "z")] == ["c"]
    store.upsert(obj("a", 6, owner="x"))  # same value, new version
    assert store.by_index_raw("owner", "x") == [store.get_raw(("default", "a"))]
    store.remove(obj("a", 7))
    assert store.by_index("owner", "x") == [] and store.indexed("owner")


def test_a_paged_relist_puts_pages_in_as_they_come_and_prunes_at_the_end() -> None:
    store = Store()
    store.upsert(obj("gone", 3))
    store.upsert(obj("written", 30))
    store.remove(obj("deleted", 9), tombstone=True)
    store.forget_tombstones()
    assert store.upsert(obj("deleted", 8)) is not None  # the list is the truth now
    assert store.upsert(obj("kept", 4)) is not None
    changes = store.prune({("default", "deleted"), ("default", "kept")}, 20)
    assert [(c.type, c.obj["metadata"]["name"]) for c in changes] == [("DELETED", "gone")]
    assert [o["metadata"]["name"] for o in store.items()] == ["deleted", "kept", "written"]


def test_events_of_an_object_being_written_wait_for_the_write_to_end() -> None:
    store = Store()
    released: list[list[bytes]] = []
    assert not store.hold_back(("default", "a"), b"early")  # nobody to release to yet
    store.on_release = released.append
    assert not store.hold_back(("default", "a"), b"no write in flight")
    store.begin_write(("default", "a"))
    store.begin_write(("default", "a"))  # two workers write the same object
    assert store.hold_back(("default", "a"), b"first")
    assert store.hold_back(("default", "a"), b"second")
    assert not store.hold_back(("default", "b"), b"another object")
    store.end_write(("default", "a"))
    assert released == []  # one write is still in flight
    store.end_write(("default", "a"))
    assert released == [[b"first", b"second"]]
    store.begin_write(("default", "a"))
    store.end_write(("default", "a"))
    assert released == [[b"first", b"second"]]  # nothing held: nothing released

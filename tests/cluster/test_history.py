"""Watch history, list paging, persistence, workload statuses, defaults and pruning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orkestra.cluster import GoneError, MemoryCluster
from orkestra.cluster.history import EventHistory, WatchEvent
from orkestra.cluster.kubelet import settle_workloads
from orkestra.cluster.scale import scale_of, scaled
from tests.cluster.test_store import CRD, deployment

Obj = dict[str, Any]


def config_map(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"k": name},
    }


def event(rv: int, resource: str = "configmaps") -> WatchEvent:
    return WatchEvent(
        type="ADDED",
        group="",
        resource=resource,
        object={"metadata": {"name": f"o{rv}"}},
        resource_version=rv,
    )


def test_history_resumes_by_resource_and_expires_old_versions() -> None:
    history = EventHistory(window=3)
    for rv in range(1, 11):
        history.append(event(rv, "configmaps" if rv % 2 else "secrets"))
    assert [e.resource_version for e in history.since(7, "", "configmaps")] == [9]
    for rv in range(11, 30, 2):
        history.append(event(rv))
    assert history.oldest("", "configmaps") > 7
    with pytest.raises(GoneError, match="too old resource version"):
        history.since(7, "", "configmaps")
    assert [e.resource_version for e in history.since(8, "", "secrets")] == [10]


def test_server_mode_watch_resumes_and_answers_gone() -> None:
    cluster = MemoryCluster(record=False, history_window=5)
    start = cluster.resource_version
    rt = cluster.type_for("v1", "ConfigMap")
    for n in range(3):
        cluster.create(config_map(f"c{n}"))
    assert [e.object["metadata"]["name"] for e in cluster.watch_events(rt, None, start)] == [
        "c0",
        "c1",
        "c2",
    ]
    assert cluster.operations == [] and cluster.events == []
    for n in range(3, 20):
        cluster.create(config_map(f"c{n}"))
    with pytest.raises(GoneError):
        cluster.watch_events(rt, None, start)


def test_pages_continue_where_they_stopped_and_expire() -> None:
    cluster = MemoryCluster(record=False, history_window=2)
    rt = cluster.type_for("v1", "ConfigMap")
    for n in range(5):
        cluster.create(config_map(f"c{n}"))
    first = cluster.page(rt, "default", limit=2)
    assert [o["metadata"]["name"] for o in first.items] == ["c0", "c1"]
    assert first.remaining == 3
    second = cluster.page(rt, "default", limit=2, continue_token=first.continue_token)
    third = cluster.page(rt, "default", limit=2, continue_token=second.continue_token)
    assert [o["metadata"]["name"] for o in second.items + third.items] == ["c2", "c3", "c4"]
    assert third.continue_token == ""
    for n in range(5, 12):
        cluster.create(config_map(f"c{n}"))
    with pytest.raises(GoneError, match="continue parameter is too old"):
        cluster.page(rt, "default", limit=2, continue_token=first.continue_token)


def test_a_restarted_store_keeps_objects_and_versions(tmp_path: Path) -> None:
    cluster = MemoryCluster(record=False, data_dir=tmp_path)
    cluster.create(CRD)
    cluster.create(
        {
            "apiVersion": "demo.io/v1",
            "kind": "WebApp",
            "metadata": {"name": "app", "namespace": "default"},
            "spec": {"image": "nginx"},
        }
    )
    kept = cluster.create(config_map("kept"))
    cluster.create(config_map("gone"))
    cluster.delete("v1", "ConfigMap", "gone", "default")
    version = cluster.resource_version
    again = MemoryCluster(record=False, data_dir=tmp_path)  # no close(): a killed process
    assert again.resource_version == version
    assert again.get("v1", "ConfigMap", "kept", "default") == kept
    assert again.find("v1", "ConfigMap", "gone", "default") is None
    assert again.get("demo.io/v1", "WebApp", "app", "default")["spec"]["replicas"] == 1
    made = again.create(config_map("new"))
    assert int(made["metadata"]["resourceVersion"]) == version + 1
    with pytest.raises(GoneError):  # history before the restart is gone: clients relist
        again.watch_events(again.type_for("v1", "ConfigMap"), None, version - 1)


def test_a_torn_journal_line_is_ignored(tmp_path: Path) -> None:
    cluster = MemoryCluster(record=False, data_dir=tmp_path)
    cluster.create(config_map("kept"))
    with (tmp_path / "journal.jsonl").open("a") as journal:
        journal.write('{"t":"ADDED","g":"","r":"configmaps","v":99,"o":{"metad')
    again = MemoryCluster(record=False, data_dir=tmp_path)
    assert again.find("v1", "ConfigMap", "kept", "default") is not None


def test_compaction_folds_the_journal_into_a_snapshot(tmp_path: Path) -> None:
    cluster = MemoryCluster(record=False, data_dir=tmp_path)
    assert cluster._journal is not None
    cluster._journal.compact_after = 5
    for n in range(12):
        cluster.create(config_map(f"c{n}"))
    assert (tmp_path / "snapshot.json").exists()
    assert len((tmp_path / "journal.jsonl").read_text().splitlines()) < 5
    again = MemoryCluster(record=False, data_dir=tmp_path)
    assert len(again.list("v1", "ConfigMap", "default")) == 12


def test_workloads_report_what_rollout_status_reads() -> None:
    cluster = MemoryCluster()
    cluster.create(deployment("web", replicas=3, selector={"matchLabels": {"app": "web"}}))
    cluster.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "once", "namespace": "default"},
            "spec": {"template": {"spec": {"containers": []}}},
        }
    )
    assert settle_workloads(cluster) == 2
    assert settle_workloads(cluster) == 0  # settled objects are not written again
    web = cluster.get("apps/v1", "Deployment", "web", "default")
    status = web["status"]
    assert status["updatedReplicas"] == status["availableReplicas"] == 3
    assert status["observedGeneration"] == web["metadata"]["generation"]
    assert {c["type"] for c in status["conditions"]} == {"Available", "Progressing"}
    job = cluster.get("batch/v1", "Job", "once", "default")
    assert {c["type"] for c in job["status"]["conditions"]} >= {"Complete"}


def test_builtin_defaults_and_unknown_fields() -> None:
    cluster = MemoryCluster()
    made = cluster.create({**deployment("web"), "spec": {"replicass": 2, "selector": {}}})
    assert "replicass" not in made["spec"]
    assert made["spec"]["replicas"] == 1
    assert made["spec"]["strategy"]["type"] == "RollingUpdate"
    sts = cluster.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {},
        }
    )
    assert sts["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0},
    }


def test_scale_reads_and_writes_replicas() -> None:
    cluster = MemoryCluster()
    web = cluster.create(deployment("web", replicas=2, selector={"matchLabels": {"app": "web"}}))
    paths = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}
    scale = scale_of(web, paths)
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"]["selector"] == "app=web"
    assert scaled(web, {"spec": {"replicas": 5}}, paths)["spec"]["replicas"] == 5


def test_expired_history_answers_gone_for_older_versions() -> None:
    cluster = MemoryCluster(record=False, history_window=100)
    rt = cluster.type_for("v1", "ConfigMap")
    before = cluster.resource_version
    cluster.create(config_map("c0"))
    cluster.expire_history()
    with pytest.raises(GoneError):
        cluster.watch_events(rt, None, before)
    assert cluster.watch_events(rt, None, cluster.resource_version) == []
    cluster.create(config_map("c1"))
    assert [e.object["metadata"]["name"] for e in cluster.watch_events(rt, None, before + 1)] == [
        "c1"
    ]


def test_a_continued_list_is_the_snapshot_of_its_first_page() -> None:
    cluster = MemoryCluster(record=False, history_window=100)
    rt = cluster.type_for("v1", "ConfigMap")
    for n in range(4):
        cluster.create(config_map(f"c{n}"))
    first = cluster.page(rt, "default", limit=2)
    cluster.delete("v1", "ConfigMap", "c3", "default")
    cluster.create(config_map("c9"))
    cluster.patch("v1", "ConfigMap", "c2", {"data": {"k": "changed"}}, "default")
    rest = cluster.page(rt, "default", limit=5, continue_token=first.continue_token)
    assert [(o["metadata"]["name"], o["data"]["k"]) for o in rest.items] == [
        ("c2", "c2"),
        ("c3", "c3"),
    ]


def test_empty_strategies_are_defaulted_like_missing_ones() -> None:
    cluster = MemoryCluster()
    empty = cluster.create({**deployment("a"), "spec": {"strategy": {}}})
    recreate = cluster.create({**deployment("b"), "spec": {"strategy": {"type": "Recreate"}}})
    assert empty["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}


def test_pages_of_one_namespace_keep_to_it_before_and_after_changes() -> None:
    cluster = MemoryCluster(record=False, history_window=100)
    rt = cluster.type_for("v1", "ConfigMap")
    for namespace in ("a", "b", "c"):
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        for n in range(3):
            made = config_map(f"{namespace}{n}")
            made["metadata"]["namespace"] = namespace
            made["metadata"]["labels"] = {"odd": str(n % 2)}
            cluster.create(made)
    first = cluster.page(rt, "b", limit=1)
    for gone in ("a0", "c0", "b1"):  # deleted in the namespace and around it
        cluster.delete("v1", "ConfigMap", gone, gone[0])
    rest = cluster.page(rt, "b", limit=5, continue_token=first.continue_token)
    assert [o["metadata"]["name"] for o in first.items + rest.items] == ["b0", "b1", "b2"]
    now = cluster.page(rt, "b", limit=5)
    assert [o["metadata"]["name"] for o in now.items] == ["b0", "b2"]
    odd = cluster.page(rt, None, label_selector="odd=1", limit=1)
    more = cluster.page(rt, None, label_selector="odd=1", continue_token=odd.continue_token)
    assert [o["metadata"]["name"] for o in odd.items + more.items] == ["a1", "c1"]
    assert odd.remaining == 1 and more.continue_token == ""

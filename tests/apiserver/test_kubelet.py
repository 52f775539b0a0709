"""The embedded server's kubelet: a workload gets its running status once, shortly after
it changes, and the event of that status write is not examined again."""

from __future__ import annotations

import asyncio

import pytest

from orkestra.apiserver import server
from orkestra.apiserver.server import CONTROLLER_MANAGER, Kubelet
from orkestra.cluster import MemoryCluster
from orkestra.cluster.data import clone
from orkestra.cluster.history import WatchEvent
from orkestra.cluster.kubelet import settled_status
from orkestra.kubeobjects import JsonDict, KubeObject

DEPLOYMENT: KubeObject = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    },
}


def test_a_workload_is_settled_by_one_status_write(monkeypatch: pytest.MonkeyPatch) -> None:
    examined: list[str] = []

    def counted(obj: KubeObject, now: str, nodes: int = 1) -> JsonDict | None:
        examined.append(str(obj["metadata"]["resourceVersion"]))
        return settled_status(obj, now, nodes)

    monkeypatch.setattr(server, "settled_status", counted)

    async def scenario() -> tuple[list[WatchEvent], KubeObject]:
        cluster = MemoryCluster(record=False, track_fields=True)
        events: list[WatchEvent] = []
        cluster.subscribe(events.append)
        kubelet = Kubelet(cluster, asyncio.get_running_loop(), 0.01)
        cluster.create(DEPLOYMENT, record=False)
        await asyncio.sleep(0.1)
        kubelet.close()
        return events, cluster.get("apps/v1", "Deployment", "web", "default")

    events, settled = asyncio.run(scenario())
    assert [e.type for e in events] == ["ADDED", "MODIFIED"]
    assert settled["status"]["readyReplicas"] == 2
    assert settled["metadata"]["managedFields"][-1]["manager"] == CONTROLLER_MANAGER
    created = str(events[0].object["metadata"]["resourceVersion"])
    assert examined == [created]  # once, when due; not at the event, nor after the write


def test_a_change_is_settled_again_only_when_its_status_would_change() -> None:
    async def scenario() -> list[tuple[str, int | None]]:
        cluster = MemoryCluster(record=False, track_fields=True)
        events: list[WatchEvent] = []
        cluster.subscribe(events.append)
        kubelet = Kubelet(cluster, asyncio.get_running_loop(), 0.01)
        cluster.create(DEPLOYMENT, record=False)
        await asyncio.sleep(0.1)
        labelled = clone(cluster.get("apps/v1", "Deployment", "web", "default"))
        labelled["metadata"]["labels"] = {"tier": "web"}  # the status stays what it is
        cluster.update(labelled)
        await asyncio.sleep(0.1)
        scaled = clone(cluster.get("apps/v1", "Deployment", "web", "default"))
        scaled["spec"]["replicas"] = 3  # a new generation: its status changes
        cluster.update(scaled)
        await asyncio.sleep(0.1)
        kubelet.close()
        return [(e.type, (e.object.get("status") or {}).get("readyReplicas")) for e in events]

    assert asyncio.run(scenario()) == [
        ("ADDED", None),
        ("MODIFIED", 2),  # settled
        ("MODIFIED", 2),  # labelled: nothing to settle
        ("MODIFIED", 2),  # scaled
        ("MODIFIED", 3),  # settled again
    ]

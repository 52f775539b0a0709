"""The embedded server's kubelet: a workload gets its running status once, shortly after
it changes, and the event of that status write is not examined again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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


Change = Callable[[MemoryCluster], None]


async def settling(*changes: Change) -> tuple[list[WatchEvent], KubeObject]:
    """A kubelet at work on a cluster where ``DEPLOYMENT`` is created, then each change is
    made in turn (a pause after each): the cluster's events, and the Deployment at the end."""
    cluster = MemoryCluster(record=False, track_fields=True)
    events: list[WatchEvent] = []
    cluster.subscribe(events.append)
    kubelet = Kubelet(cluster, asyncio.get_running_loop(), 0.01)
    for change in (lambda c: c.create(DEPLOYMENT, record=False), *changes):
        change(cluster)
        await asyncio.sleep(0.1)
    kubelet.close()
    return events, cluster.get("apps/v1", "Deployment", "web", "default")


def edited(edit: Callable[[KubeObject], None]) -> Change:
    """A change: the Deployment updated with ``edit`` made to a copy."""

    def change(cluster: MemoryCluster) -> None:
        obj = clone(cluster.get("apps/v1", "Deployment", "web", "default"))
        edit(obj)
        cluster.update(obj)

    return change


def test_a_workload_is_settled_by_one_status_write(monkeypatch: pytest.MonkeyPatch) -> None:
    examined: list[str] = []

    def counted(obj: KubeObject, now: str, nodes: int = 1) -> JsonDict | None:
        examined.append(str(obj["metadata"]["resourceVersion"]))
        return settled_status(obj, now, nodes)

    monkeypatch.setattr(server, "settled_status", counted)
    events, settled = asyncio.run(settling())
    assert [e.type for e in events] == ["ADDED", "MODIFIED"]
    assert settled["status"]["readyReplicas"] == 2
    assert settled["metadata"]["managedFields"][-1]["manager"] == CONTROLLER_MANAGER
    created = str(events[0].object["metadata"]["resourceVersion"])
    assert examined == [created]  # once, when due; not at the event, nor after the write


def test_a_change_is_settled_again_only_when_its_status_would_change() -> None:
    events, _ = asyncio.run(
        settling(
            edited(lambda d: d["metadata"].update(labels={"tier": "web"})),  # status stays
            edited(lambda d: d["spec"].update(replicas=3)),  # a new generation: it changes
        )
    )
    assert [(e.type, (e.object.get("status") or {}).get("readyReplicas")) for e in events] == [
        ("ADDED", None),
        ("MODIFIED", 2),  # settled
        ("MODIFIED", 2),  # labelled: nothing to settle
        ("MODIFIED", 2),  # scaled
        ("MODIFIED", 3),  # settled again
    ]

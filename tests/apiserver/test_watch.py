"""Watch semantics, straight over HTTP: resuming, 410 Gone, bookmarks, timeouts,
selectors, Table events and injected stream cuts."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from orkestra.apiserver import EmbeddedServer, Faults
from orkestra.cluster import MemoryCluster
from tests.apiserver.test_clients import Watch, new_client_from_config

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
END = "zz-end"  # a marker object: the events before its own are all there is
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


class Raw:
    """An HTTP client for one server, with its CA and token."""

    def __init__(self, server: EmbeddedServer) -> None:
        context = ssl.create_default_context(cafile=str(server.credentials.ca_file))
        self.http = httpx.Client(
            base_url=server.url,
            verify=context,
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=httpx.Timeout(10.0),
        )

    def create(self, path: str, obj: Obj) -> Obj:
        response = self.http.post(path, json=obj)
        assert response.status_code == 201, response.text
        made: Obj = response.json()
        return made

    def patch(self, path: str, patch: Obj) -> Obj:
        response = self.http.patch(
            path, json=patch, headers={"Content-Type": "application/merge-patch+json"}
        )
        assert response.status_code == 200, response.text
        patched: Obj = response.json()
        return patched

    def delete(self, path: str) -> None:
        assert self.http.delete(path).status_code == 200

    def rv(self, path: str) -> str:
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return str(response.json()["metadata"]["resourceVersion"])

    @contextmanager
    def stream(
        self, path: str, accept: str | None = None, **params: str
    ) -> Iterator[Iterator[Obj]]:
        """A watch: its events, one by one, as they arrive."""
        with self.http.stream(
            "GET",
            path,
            params={"watch": "true", **params},
            headers={"Accept": accept} if accept else None,
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/json")
            yield (json.loads(line) for line in response.iter_lines() if line)

    def watch(
        self, path: str, until: str | None = None, accept: str | None = None, **params: str
    ) -> list[Obj]:
        """The events of a watch up to the first about the object named ``until`` (not
        included), or all of them until the server ends the stream."""
        events: list[Obj] = []
        with self.stream(path, accept, **params) as stream:
            for event in stream:
                if until is not None and name_of(event) == until:
                    return events
                events.append(event)
        assert until is None, f"the stream ended before {until!r} came"
        return events


def cm(name: str, labels: dict[str, str] | None = None, **data: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, **({"labels": labels} if labels else {})},
        "data": data,
    }


def name_of(event: Obj) -> str:
    obj = event["object"]
    if obj.get("kind") == "Table":
        obj = obj["rows"][0]["object"]
    return str(obj["metadata"].get("name", ""))


def summary(events: list[Obj]) -> list[tuple[str, str]]:
    return [(e["type"], name_of(e)) for e in events]


@pytest.fixture(scope="module")
def raw(server: EmbeddedServer) -> Iterator[Raw]:
    client = Raw(server)
    yield client
    client.http.close()


def test_resume_gives_exactly_the_later_events(raw: Raw, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    raw.create(base, cm("early"))
    start = raw.rv(base)
    raw.create(base, cm("a"))
    raw.patch(f"{base}/a", {"data": {"x": "1"}})
    raw.patch(f"{base}/early", {"data": {"y": "2"}})
    raw.delete(f"{base}/a")
    raw.create("/api/v1/namespaces/default/configmaps", cm(f"{ns}-elsewhere"))
    end = raw.rv(base)
    raw.create(base, cm(END))
    events = raw.watch(base, until=END, resourceVersion=start)
    assert summary(events) == [
        ("ADDED", "a"),
        ("MODIFIED", "a"),
        ("MODIFIED", "early"),
        ("DELETED", "a"),
    ]
    assert all(
        e["object"]["kind"] == "ConfigMap" and e["object"]["apiVersion"] == "v1" for e in events
    )
    assert raw.watch(base, until=END, resourceVersion=end) == []
    # from the resourceVersion of a MODIFIED event on, only what followed it
    modified = events[1]["object"]["metadata"]["resourceVersion"]
    after = raw.watch(base, until=END, resourceVersion=modified)
    assert summary(after) == [("MODIFIED", "early"), ("DELETED", "a")]


def test_resumed_events_carry_their_resource_versions(raw: Raw, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    start = raw.rv(base)
    made = raw.create(base, cm("a"))
    patched = raw.patch(f"{base}/a", {"data": {"x": "1"}})
    raw.create(base, cm(END))
    events = raw.watch(base, until=END, resourceVersion=start)
    assert [e["object"]["metadata"]["resourceVersion"] for e in events] == [
        made["metadata"]["resourceVersion"],
        patched["metadata"]["resourceVersion"],
    ]


def test_watch_without_a_version_starts_with_the_current_objects(raw: Raw, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    raw.create(base, cm("one"))
    raw.create(base, cm("two"))
    raw.delete(f"{base}/one")
    for version in ({}, {"resourceVersion": "0"}):
        with raw.stream(base, **version) as events:
            assert summary([next(events)]) == [("ADDED", "two")]
            raw.patch(f"{base}/two", {"data": {"live": version.get("resourceVersion", "")}})
            assert summary([next(events)]) == [("MODIFIED", "two")]  # nothing in between


def test_cluster_wide_and_field_selector_watches(raw: Raw, ns: str) -> None:
    start = raw.rv("/api/v1/configmaps")
    raw.create(f"/api/v1/namespaces/{ns}/configmaps", cm("here"))
    raw.create(f"/api/v1/namespaces/{ns}/configmaps", cm("there"))
    raw.create(f"/api/v1/namespaces/{ns}/configmaps", cm(END))
    everywhere = raw.watch("/api/v1/configmaps", until=END, resourceVersion=start)
    assert summary(everywhere)[-2:] == [("ADDED", "here"), ("ADDED", "there")]
    with raw.stream(
        "/api/v1/configmaps",
        resourceVersion=start,
        fieldSelector=f"metadata.name=there,metadata.namespace={ns}",
    ) as events:
        assert summary([next(events)]) == [("ADDED", "there")]
        raw.patch(f"/api/v1/namespaces/{ns}/configmaps/here", {"data": {"a": "1"}})
        raw.patch(f"/api/v1/namespaces/{ns}/configmaps/there", {"data": {"a": "1"}})
        assert summary([next(events)]) == [("MODIFIED", "there")]


def test_label_selector_watch_sees_objects_leave_and_enter(raw: Raw, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    start = raw.rv(base)
    raw.create(base, cm("m", {"team": "a"}))
    raw.create(base, cm("other", {"team": "b"}))
    raw.patch(f"{base}/m", {"data": {"k": "v"}})
    raw.patch(f"{base}/m", {"metadata": {"labels": {"team": "b"}}})  # leaves the selection
    raw.patch(f"{base}/m", {"data": {"k": "w"}})  # unseen
    raw.patch(f"{base}/other", {"metadata": {"labels": {"team": "a"}}})  # enters it
    raw.delete(f"{base}/m")  # unseen
    raw.create(base, cm(END, {"team": "a"}))
    events = raw.watch(base, until=END, resourceVersion=start, labelSelector="team=a")
    assert summary(events) == [
        ("ADDED", "m"),
        ("MODIFIED", "m"),
        ("DELETED", "m"),
        ("ADDED", "other"),
    ]
    assert events[2]["object"]["metadata"]["labels"] == {"team": "b"}  # the object as it is now


def test_bookmarks_and_the_timeout(raw: Raw, ns: str) -> None:
    """A real server sends a bookmark 2 s before the watch's timeout (and every minute),
    then ends the stream at ``timeoutSeconds``."""
    base = f"/api/v1/namespaces/{ns}/configmaps"
    raw.create(base, cm("x"))
    current = raw.rv(base)
    started = time.monotonic()
    events = raw.watch(
        base, resourceVersion=current, allowWatchBookmarks="true", timeoutSeconds="3"
    )
    assert 2.9 <= time.monotonic() - started < 6
    assert [e["type"] for e in events] == ["BOOKMARK"]
    bookmark = events[0]["object"]
    assert bookmark["kind"] == "ConfigMap" and bookmark["apiVersion"] == "v1"
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(current)


def test_watch_as_table_sends_column_definitions_once(raw: Raw, ns: str) -> None:
    """What ``kubectl get -w`` asks for: one-row Tables, headers in the first only."""
    base = f"/api/v1/namespaces/{ns}/configmaps"
    start = raw.rv(base)
    raw.create(base, cm("t", a="1"))
    raw.patch(f"{base}/t", {"data": {"b": "2"}})
    raw.create(base, cm(END))
    events = raw.watch(base, until=END, accept=TABLE, resourceVersion=start)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    first, second = (e["object"] for e in events)
    assert first["kind"] == second["kind"] == "Table"
    assert [c["name"] for c in first["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert not second.get("columnDefinitions")
    assert [r["cells"][:2] for r in (first["rows"][0], second["rows"][0])] == [["t", 1], ["t", 2]]
    assert second["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_an_expired_version_is_answered_410_gone() -> None:
    cluster = MemoryCluster(record=False, history_window=2)
    with EmbeddedServer(port=0, cluster=cluster) as server:
        raw = Raw(server)
        base = "/api/v1/namespaces/default/configmaps"
        first = raw.create(base, cm("c0"))["metadata"]["resourceVersion"]
        for i in range(1, 8):
            raw.create(base, cm(f"c{i}"))
        events = raw.watch(base, resourceVersion=first)
        assert [e["type"] for e in events] == ["ERROR"]
        status = events[0]["object"]
        assert status["kind"] == "Status" and status["code"] == 410
        assert status["reason"] == "Expired"
        assert "too old resource version" in status["message"]
        # a recent version still resumes
        recent = raw.rv(base)
        raw.create(base, cm("late"))
        raw.create(base, cm(END))
        assert summary(raw.watch(base, until=END, resourceVersion=recent)) == [("ADDED", "late")]
        # the official client turns the ERROR event into an ApiException(410)
        api = new_client_from_config(config_file=str(server.kubeconfig))
        core = k8s.CoreV1Api(api)
        with pytest.raises(ApiException) as gone:
            for _ in Watch().stream(
                core.list_namespaced_config_map,
                "default",
                resource_version=first,
                timeout_seconds=5,
            ):
                pass
        assert gone.value.status == 410
        api.close()
        raw.http.close()


def test_injected_watch_cuts() -> None:
    with EmbeddedServer(port=0, faults=Faults(watch_cut_every=2)) as server:
        raw = Raw(server)
        base = "/api/v1/namespaces/default/configmaps"
        start = raw.rv(base)
        for i in range(6):
            raw.create(base, cm(f"c{i}"))
        got: list[tuple[str, str]] = []
        version = start
        for _ in range(3):  # each stream ends by itself after 2 events: resume each time
            events = raw.watch(base, resourceVersion=version, timeoutSeconds="5")
            assert len(events) == 2
            got += summary(events)
            version = events[-1]["object"]["metadata"]["resourceVersion"]
        assert got == [("ADDED", f"c{i}") for i in range(6)]
        started = time.monotonic()
        assert len(raw.watch(base, timeoutSeconds="5")) == 2  # cut, not timed out
        assert time.monotonic() - started < 2
        raw.http.close()

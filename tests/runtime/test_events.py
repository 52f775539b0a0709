"""Events: v1 Event objects about CRs, repeats folded into a count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orkestra.runtime.events import EventRecorder

Obj = dict[str, Any]
CR = {
    "apiVersion": "rkguide.demo/v1",
    "kind": "WebApp",
    "metadata": {"name": "web", "namespace": "team", "uid": "u-1", "resourceVersion": "7"},
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def recorder(clock: Clock) -> tuple[EventRecorder, list[tuple[str, str, Obj]]]:
    sent: list[tuple[str, str, Obj]] = []
    wall = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    return EventRecorder(
        lambda m, p, b: sent.append((m, p, b)), host="node-1", clock=clock, wall=lambda: wall
    ), sent


def test_the_first_event_is_a_full_v1_event_in_the_objects_namespace() -> None:
    events, sent = recorder(Clock())
    events.warning(CR, "ReconcileError", "templates: bad")
    method, path, body = sent[0]
    assert (method, path) == ("POST", "/api/v1/namespaces/team/events")
    assert body["involvedObject"] == {
        "apiVersion": "rkguide.demo/v1",
        "kind": "WebApp",
        "name": "web",
        "namespace": "team",
        "uid": "u-1",
        "resourceVersion": "7",
    }
    assert body["type"] == "Warning" and body["reason"] == "ReconcileError"
    assert body["source"] == {"component": "orkestra", "host": "node-1"}
    assert body["count"] == 1
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2026-06-01T12:00:00Z"
    assert body["metadata"]["name"].startswith("web.")


def test_repeats_patch_the_count_of_the_first_event() -> None:
    clock = Clock()
    events, sent = recorder(clock)
    for _ in range(3):
        events.warning(CR, "ReconcileError", "templates: bad")
        clock.now += 1
    name = sent[0][2]["metadata"]["name"]
    assert [(m, p) for m, p, _ in sent[1:]] == [
        ("PATCH", f"/api/v1/namespaces/team/events/{name}")
    ] * 2
    assert [b["count"] for _, _, b in sent[1:]] == [2, 3]


def test_a_different_message_or_an_old_repeat_makes_a_new_event() -> None:
    clock = Clock()
    events, sent = recorder(clock)
    events.warning(CR, "ReconcileError", "one")
    events.warning(CR, "ReconcileError", "two")
    clock.now += 601
    events.warning(CR, "ReconcileError", "one")
    assert [m for m, _, _ in sent] == ["POST", "POST", "POST"]


def test_cluster_scoped_objects_get_their_events_in_default() -> None:
    events, sent = recorder(Clock())
    events.warning(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}},
        "ValidationFailed",
        "denied",
    )
    assert sent[0][1] == "/api/v1/namespaces/default/events"
    assert "namespace" not in sent[0][2]["involvedObject"]


def test_the_memory_of_past_events_is_bounded() -> None:
    sent: list[tuple[str, str, Obj]] = []
    events = EventRecorder(lambda m, p, b: sent.append((m, p, b)), limit=2)
    for message in ("a", "b", "c", "a"):
        events.warning(CR, "ReconcileError", message)
    assert [m for m, _, _ in sent] == ["POST"] * 4

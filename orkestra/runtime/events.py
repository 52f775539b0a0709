# ruff: noqa: N815 - the keys are the API's own camelCase names
"""Kubernetes Events about CRs: validation denials and reconcile errors.

Events are ``v1`` Event objects in the CR's namespace (``default`` for cluster-scoped CRs)
with the involved object, a reason, a message and ``source.component: orkestra``. Like the
client-go event recorder, a repeat of the same event (same object, type, reason and
message) within ten minutes does not make a new object: the existing one's ``count`` and
``lastTimestamp`` are patched. The recorder decides what to send under a lock and hands the
request to a sink, so workers record without waiting for the API; the runtime's sink
sends from the event loop and only logs failures (an event is never worth failing a
reconcile).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

from orkestra.cluster.errors import ApiError
from orkestra.kubeobjects import KubeObject
from orkestra.runtime.kube import MERGE_PATCH, KubeClient
from orkestra.units import format_timestamp


class ObjectReference(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    namespace: str
    uid: str
    resourceVersion: str


class EventSource(TypedDict):
    component: str
    host: str


class Event(KubeObject):
    """A core/v1 Event, as the client-go recorder writes it. Its ``type`` (Normal or
    Warning) is the key :class:`KubeObject` declares already (a Secret's type)."""

    involvedObject: ObjectReference
    reason: str
    message: str
    count: int
    firstTimestamp: str
    lastTimestamp: str
    source: EventSource
    reportingComponent: str
    reportingInstance: str


class Repeat(TypedDict):
    """The merge patch that counts a repeat of an event."""

    count: int
    lastTimestamp: str


Sink = Callable[[str, str, Event | Repeat], None]  # method, path, body
COMPONENT = "orkestra"
MAX_MESSAGE = 1024
log = logging.getLogger("orkestra.runtime.events")


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    last: float


def events_path(namespace: str, name: str = "") -> str:
    return f"/api/v1/namespaces/{namespace}/events" + (f"/{name}" if name else "")


class EventRecorder:
    """Records events, folding repeats into a count."""

    def __init__(
        self,
        sink: Sink,
        *,
        host: str | None = None,
        window: float = 600.0,
        limit: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sink = sink
        self.host = host or socket.gethostname()
        self.window = window
        self.limit = limit
        self.clock = clock
        self.wall = wall
        self._seen: OrderedDict[tuple[str, str, str, str], _Seen] = OrderedDict()
        self._lock = threading.Lock()

    def warning(self, obj: KubeObject, reason: str, message: str) -> None:
        self.record(obj, "Warning", reason, message)

    def record(self, obj: KubeObject, type_: str, reason: str, message: str) -> None:
        meta = obj["metadata"]
        message = message[:MAX_MESSAGE]
        key = (meta.get("uid") or meta.get("name", ""), type_, reason, message)
        now, stamp = self.clock(), format_timestamp(self.wall())
        request: tuple[str, str, Event | Repeat]
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen.last < self.window:
                seen.count += 1
                seen.last = now
                self._seen.move_to_end(key)
                request = (
                    "PATCH",
                    events_path(seen.namespace, seen.name),
                    {"count": seen.count, "lastTimestamp": stamp},
                )
            else:
                namespace = meta.get("namespace") or "default"
                name = f"{meta.get('name', '')}.{time.time_ns():x}"
                self._seen[key] = _Seen(name, namespace, 1, now)
                self._seen.move_to_end(key)
                while len(self._seen) > self.limit:
                    self._seen.popitem(last=False)
                request = (
                    "POST",
                    events_path(namespace),
                    self._event(obj, name, namespace, type_, reason, message, stamp),
                )
        self.sink(*request)

    def _event(
        self,
        obj: KubeObject,
        name: str,
        namespace: str,
        type_: str,
        reason: str,
        message: str,
        stamp: str,
    ) -> Event:
        meta = obj["metadata"]
        involved: ObjectReference = {
            "apiVersion": obj.get("apiVersion", ""),
            "kind": obj.get("kind", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if meta.get("namespace"):
            involved["namespace"] = meta["namespace"]
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": type_,
            "count": 1,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "source": {"component": COMPONENT, "host": self.host},
            "reportingComponent": COMPONENT,
            "reportingInstance": self.host,
        }


def loop_sink(client: KubeClient, loop: asyncio.AbstractEventLoop) -> Sink:
    """A sink that sends each request from ``loop`` (callable from any thread)."""
    pending: set[asyncio.Task[None]] = set()

    async def send(method: str, path: str, body: Event | Repeat) -> None:
        content_type = MERGE_PATCH if method == "PATCH" else "application/json"
        try:
            await client.arequest(method, path, body=body, content_type=content_type)
        except ApiError as exc:
            log.debug("event not recorded: %s", exc.message)

    def schedule(method: str, path: str, body: Event | Repeat) -> None:
        task = loop.create_task(send(method, path, body))
        pending.add(task)
        task.add_done_callback(pending.discard)

    def sink(method: str, path: str, body: Event | Repeat) -> None:
        loop.call_soon_threadsafe(schedule, method, path, body)

    return sink

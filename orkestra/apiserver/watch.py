"""Watch streams: chunked JSON lines of ADDED / MODIFIED / DELETED events.

Every change the store makes reaches the hub through one subscriber. Subscribers run under
the store's lock, and the hub hands each event to the event loop with ``call_soon``
(``call_soon_threadsafe`` from other threads), so events are dispatched in resourceVersion
order whichever thread wrote them. A watch resumes from a resourceVersion out of the
store's bounded history (an expired one is answered with an ``ERROR`` event carrying 410
Gone, as a real server does), deduplicates what the history and the live feed both
deliver, applies namespace and selectors (an object that stops matching is sent as
DELETED, one that starts matching as ADDED), sends bookmarks when asked, and ends at
``timeoutSeconds``. With ``sendInitialEvents=true`` (client-go's streaming lists, Helm 4's
``--wait``) the current objects come first as ADDED, then a BOOKMARK annotated
``k8s.io/initial-events-end: "true"`` says they are all there. A watcher that falls too far
behind is cut off; its client resumes.
A watch that asks for ``as=Table`` (``kubectl get -w``) gets each object as a one-row
Table, with the column definitions in the first event only, as a real server sends it.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from orkestra.apiserver import tables
from orkestra.apiserver.codec import JSON, dumps
from orkestra.apiserver.paths import Target
from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import BadRequestError, GoneError
from orkestra.cluster.history import WatchEvent
from orkestra.cluster.resources import ResourceType
from orkestra.cluster.selectors import field_matcher, label_matcher
from orkestra.kubeobjects import KubeObject, ObjectMeta

MAX_BACKLOG = 100_000
DEFAULT_TIMEOUT = 1800.0
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(kw_only=True)
class WatchOptions:
    resource_version: str = ""
    timeout: float = DEFAULT_TIMEOUT
    bookmarks: bool = False
    label_selector: str = ""
    field_selector: str = ""
    initial_events: bool = False  # sendInitialEvents=true

    @classmethod
    def of(cls, query: Mapping[str, str]) -> WatchOptions:
        try:
            timeout = float(query.get("timeoutSeconds") or 0) or DEFAULT_TIMEOUT * random.uniform(
                1.0, 2.0
            )
        except ValueError:
            raise BadRequestError("timeoutSeconds must be a number") from None
        return cls(
            resource_version=str(query.get("resourceVersion", "")),
            timeout=timeout,
            bookmarks=query.get("allowWatchBookmarks") in ("true", "1"),
            label_selector=str(query.get("labelSelector", "")),
            field_selector=str(query.get("fieldSelector", "")),
            initial_events=query.get("sendInitialEvents") in ("true", "1"),
        )


@dataclass(eq=False, kw_only=True)
class Watcher:
    rt: ResourceType
    namespace: str | None
    options: WatchOptions
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=asyncio.Queue)
    sent_rv: int = 0
    table: tables.TableRequest | None = None  # events as one-row Tables (kubectl get -w)
    headers_sent: bool = False

    def __post_init__(self) -> None:
        self._labels = label_matcher(self.options.label_selector)
        self._fields = field_matcher(self.options.field_selector)

    def matches(self, obj: KubeObject | None) -> bool:
        if obj is None:
            return False
        if (
            self.namespace is not None
            and self.rt.namespaced
            and obj["metadata"].get("namespace") != self.namespace
        ):
            return False
        return self._labels(obj["metadata"].get("labels") or {}) and self._fields(obj)

    def offer(self, event: WatchEvent) -> None:
        if self.queue.qsize() >= MAX_BACKLOG:
            self.queue.put_nowait(None)
        else:
            self.queue.put_nowait(event)

    def visible_type(self, event: WatchEvent) -> str | None:
        """How this watcher sees an event (None: not at all)."""
        now = self.matches(event.object)
        before = self.matches(event.previous) if event.type == "MODIFIED" else now
        if event.type == "MODIFIED" and now != before:
            return "ADDED" if now else "DELETED"
        return event.type if now else None

    def encode(self, event: WatchEvent, kind: str) -> bytes:
        obj = event.object
        if self.table is not None:
            table = tables.to_table(
                self.rt,
                [_as_version(obj, self.rt)],
                now=datetime.now(UTC),
                request=self.table,
                no_headers=self.headers_sent,
            )
            self.headers_sent = True
            return dumps({"type": kind, "object": table}) + b"\n"
        if kind == event.type and obj.get("apiVersion") == self.rt.api_version:
            if event.encoded is None:
                event.encoded = dumps({"type": kind, "object": obj}) + b"\n"
            return event.encoded
        return dumps({"type": kind, "object": _as_version(obj, self.rt)}) + b"\n"


def _as_version(obj: KubeObject, rt: ResourceType) -> KubeObject:
    if obj.get("apiVersion") != rt.api_version:
        return {**obj, "apiVersion": rt.api_version}
    return obj


class WatchHub:
    """Fans the store's events out to the open watches."""

    def __init__(
        self,
        cluster: MemoryCluster,
        loop: asyncio.AbstractEventLoop,
        *,
        bookmark_interval: float = 5.0,
        cut_after: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.cluster = cluster
        self.loop = loop
        self.bookmark_interval = bookmark_interval
        self.cut_after = cut_after
        self.dispatched_rv = cluster.resource_version
        self._watchers: dict[tuple[str, str], set[Watcher]] = {}
        self._loop_thread = threading.get_ident()
        self.closing = asyncio.Event()
        cluster.subscribe(self.on_event)

    def close(self) -> None:
        self.cluster.unsubscribe(self.on_event)
        self.closing.set()
        self.end_all()

    def end_all(self) -> None:
        """End every open watch stream (clients resume from their last version)."""
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.queue.put_nowait(None)

    def on_event(self, event: WatchEvent) -> None:
        """The store's subscriber (called under its lock, from any thread)."""
        if threading.get_ident() == self._loop_thread:
            self.loop.call_soon(self._dispatch, event)
        else:
            self.loop.call_soon_threadsafe(self._dispatch, event)

    def _dispatch(self, event: WatchEvent) -> None:
        self.dispatched_rv = max(self.dispatched_rv, event.resource_version)
        for watcher in self._watchers.get((event.group, event.resource), ()):
            watcher.offer(event)

    async def serve(
        self, request: web.Request, rt: ResourceType, target: Target
    ) -> web.StreamResponse:
        options = WatchOptions.of(request.query)
        try:
            table = tables.table_request(
                request.headers.get("Accept"), request.query.get("includeObject")
            )
        except ValueError as exc:
            raise BadRequestError(str(exc)) from None
        watcher = Watcher(rt=rt, namespace=target.namespace, options=options, table=table)
        try:
            backlog = self._start(watcher)
        except GoneError as exc:
            backlog = None
            gone = exc
        response = web.StreamResponse(headers={"Content-Type": JSON, "Cache-Control": "no-cache"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            if backlog is None:
                await response.write(dumps({"type": "ERROR", "object": gone.status()}) + b"\n")
                return response
            await self._stream(response, watcher, backlog)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._watchers.get(rt.key, set()).discard(watcher)
        return response

    def _start(self, watcher: Watcher) -> list[tuple[str, WatchEvent]]:
        """Register the watcher and collect what it must see first (no awaits here, so no
        event can slip between the two)."""
        rt, options = watcher.rt, watcher.options
        self._watchers.setdefault(rt.key, set()).add(watcher)
        if options.resource_version in ("", "0") or options.initial_events:
            with self.cluster._lock:
                watcher.sent_rv = self.cluster.resource_version
                items = self.cluster.select(
                    rt,
                    watcher.namespace,
                    label_selector=options.label_selector or None,
                    field_selector=options.field_selector or None,
                )
            return [
                (
                    "ADDED",
                    WatchEvent(
                        type="ADDED",
                        group=rt.group,
                        resource=rt.plural,
                        object=obj,
                        resource_version=int(obj["metadata"]["resourceVersion"]),
                    ),
                )
                for obj in items
            ]
        try:
            since = int(options.resource_version)
        except ValueError:
            raise BadRequestError(f"invalid resourceVersion {options.resource_version!r}") from None
        events = self.cluster.watch_events(rt, None, since)
        watcher.sent_rv = since
        return [(kind, e) for e in events if (kind := watcher.visible_type(e) or "")]

    async def _stream(
        self, response: web.StreamResponse, watcher: Watcher, backlog: list[tuple[str, WatchEvent]]
    ) -> None:
        limit = self.cut_after()
        first = backlog[:limit] if limit is not None else backlog
        if first:
            await response.write(b"".join(watcher.encode(e, kind) for kind, e in first))
            watcher.sent_rv = max(watcher.sent_rv, *(e.resource_version for _, e in first))
        sent = len(first)
        if limit is not None and sent >= limit:
            return
        if watcher.options.initial_events and watcher.options.bookmarks:
            await response.write(self._bookmark(watcher, initial_events_end=True))
        deadline = self.loop.time() + watcher.options.timeout
        bookmark_at = self._next_bookmark(deadline) if watcher.options.bookmarks else None
        while not self.closing.is_set():
            now = self.loop.time()
            remaining = deadline - now
            if remaining <= 0:
                break
            wait = remaining if bookmark_at is None else max(min(remaining, bookmark_at - now), 0.0)
            try:
                async with asyncio.timeout(wait):  # cheaper than wait_for: no task per event
                    event: WatchEvent | None = await watcher.queue.get()
            except TimeoutError:
                if bookmark_at is not None and self.loop.time() >= bookmark_at:
                    if watcher.queue.empty():
                        await response.write(self._bookmark(watcher))
                    bookmark_at = self._next_bookmark(deadline)
                continue
            chunks, ended = self._drain(watcher, event, None if limit is None else limit - sent)
            if chunks:
                await response.write(b"".join(chunks))
                sent += len(chunks)
            if ended:
                break

    @staticmethod
    def _drain(
        watcher: Watcher, event: WatchEvent | None, room: int | None
    ) -> tuple[list[bytes], bool]:
        """``event`` and whatever else is queued already, encoded, so a burst of changes
        goes out in one write; True when the stream must end (closed, cut, too slow)."""
        chunks: list[bytes] = []
        while True:
            if event is None:
                return chunks, True
            if event.resource_version > watcher.sent_rv:
                watcher.sent_rv = event.resource_version
                seen_as = watcher.visible_type(event)
                if seen_as is not None:
                    chunks.append(watcher.encode(event, seen_as))
                    if room is not None and len(chunks) >= room:
                        return chunks, True
            if watcher.queue.empty():
                return chunks, False
            event = watcher.queue.get_nowait()

    def _next_bookmark(self, deadline: float) -> float | None:
        """When to send the next bookmark: every ``bookmark_interval``, and as a real server
        does, once more 2 seconds before the watch times out (None: no more)."""
        now = self.loop.time()
        at = min(now + self.bookmark_interval, deadline - 2.0)
        return at if at > now else None  # a bookmark due now is the one just sent

    def _bookmark(self, watcher: Watcher, *, initial_events_end: bool = False) -> bytes:
        """A BOOKMARK at what the watcher has seen; the one that ends the initial events
        is at their snapshot's resourceVersion (events after it may be queued already)."""
        metadata: ObjectMeta = {}
        if initial_events_end:
            metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
        else:
            watcher.sent_rv = max(watcher.sent_rv, self.dispatched_rv)
        metadata["resourceVersion"] = str(watcher.sent_rv)
        rt = watcher.rt
        return (
            dumps(
                {
                    "type": "BOOKMARK",
                    "object": {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": metadata},
                }
            )
            + b"\n"
        )

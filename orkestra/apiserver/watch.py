"""Watch streams: chunked JSON lines of ADDED / MODIFIED / DELETED events.

Every change the store makes reaches the hub through one subscriber. Subscribers run under
the store's lock, so the hub queues events in resourceVersion order whichever thread wrote
them, and dispatches what has queued in one call on the event loop: each watch gets a burst
of changes in one write. The first change after a quiet spell is dispatched at once; while
changes keep coming, at most once every :data:`FLUSH_INTERVAL` (as Nagle's algorithm holds
back small TCP segments): an event waits at most that long, and under a stream of writes
each watch gets a few events per write instead of one (with an operator writing ~2,500
times a second, half the writes to its watches, and a quarter of the dispatches).
A watch resumes from a resourceVersion out of the
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
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orkestra.apiserver import tables
from orkestra.apiserver.codec import JSON, dumps, stored_json
from orkestra.apiserver.paths import Target
from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import BadRequestError, GoneError
from orkestra.cluster.history import WatchEvent
from orkestra.cluster.resources import ResourceType
from orkestra.cluster.selectors import field_matcher, label_matcher
from orkestra.httpserver import Request, StreamResponse
from orkestra.kubeobjects import KubeObject, ObjectMeta

MAX_BACKLOG = 100_000
DEFAULT_TIMEOUT = 1800.0
FLUSH_INTERVAL = 0.002  # seconds between dispatches while changes keep coming
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
    """One open watch: its filters, and how its events reach the client.

    While the watch's task waits with nothing queued (``live``) and its client reads as
    fast as we write, the hub writes each event straight to the stream (:meth:`offer`,
    :meth:`flush`): a busy server sends every event to every watcher, and waking a task per
    event and watcher cost more than the write. Otherwise (the backlog is being sent, the
    client is slow, a bookmark is due) events are queued for the task, up to MAX_BACKLOG
    (then the stream ends: the client resumes). The task waits on a bare future and one
    alarm at a time on the loop's clock."""

    rt: ResourceType
    namespace: str | None
    options: WatchOptions
    events: deque[WatchEvent | None] = field(default_factory=deque)
    sent_rv: int = 0
    room: int | None = None  # events left to send before an injected cut
    table: tables.TableRequest | None = None  # events as one-row Tables (kubectl get -w)
    headers_sent: bool = False
    response: StreamResponse | None = None
    live: bool = False

    def __post_init__(self) -> None:
        self._labels = label_matcher(self.options.label_selector)
        self._fields = field_matcher(self.options.field_selector)
        self._out: list[bytes] = []
        self._waiter: asyncio.Future[None] | None = None
        self._alarm: asyncio.TimerHandle | None = None
        self._alarm_at = 0.0

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

    def offer(self, event: WatchEvent | None) -> bool:
        """Take an event (None: end the stream): written out at the next :meth:`flush`
        while ``live``, else queued for the task. True when this watcher must be flushed
        (its first pending write)."""
        if (
            event is not None
            and self.live
            and not self.events
            and self.response is not None
            and self.response.writable
        ):
            chunk = self.accept(event)
            if chunk is None:
                return False
            self._out.append(chunk)
            if self.room == 0:
                self.end()
            return len(self._out) == 1
        self.events.append(event if len(self.events) < MAX_BACKLOG else None)
        self._wake()
        return False

    def accept(self, event: WatchEvent) -> bytes | None:
        """The event as sent to this client, counted against the cut (None: not sent:
        seen already, or not visible to this watch)."""
        if event.resource_version <= self.sent_rv:
            return None
        self.sent_rv = event.resource_version
        seen_as = self.visible_type(event)
        if seen_as is None:
            return None
        if self.room is not None:
            self.room -= 1
        return self.encode(event, seen_as)

    def flush(self) -> None:
        """Write what :meth:`offer` took (a client gone ends the watch)."""
        chunks, self._out = self._out, []
        if chunks and self.response is not None:
            try:
                self.response.write_nowait(b"".join(chunks))
            except ConnectionResetError:
                self.end()

    def end(self) -> None:
        self.live = False
        self.events.append(None)
        self._wake()

    async def wait(self, loop: asyncio.AbstractEventLoop, until: float) -> None:
        """Until an event is queued or the loop's clock reaches ``until``; live meanwhile
        when the client keeps up."""
        if self.events:
            return
        if self._alarm is None or self._alarm_at != until:
            self.stop_alarm()
            self._alarm, self._alarm_at = loop.call_at(until, self._ring), until
        self._waiter = loop.create_future()
        self.live = self.response is not None and self.response.writable
        try:
            await self._waiter
        finally:
            self.live = False
            self._waiter = None

    def stop_alarm(self) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm = None

    def _ring(self) -> None:
        self._alarm = None
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

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
                event.encoded = b'{"type":"%b","object":%b}\n' % (kind.encode(), stored_json(obj))
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
        flush_interval: float = FLUSH_INTERVAL,
        cut_after: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.cluster = cluster
        self.loop = loop
        self.bookmark_interval = bookmark_interval
        self.flush_interval = flush_interval
        self.cut_after = cut_after
        self.dispatched_rv = cluster.resource_version
        self._watchers: dict[tuple[str, str], set[Watcher]] = {}
        self._pending: deque[WatchEvent] = deque()
        self._scheduled = False
        self._dispatched_at = -flush_interval  # loop time of the last dispatch
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
                watcher.end()

    def on_event(self, event: WatchEvent) -> None:
        """The store's subscriber (called under its lock, from any thread, so events are
        queued in resourceVersion order): one dispatch on the loop per burst."""
        self._pending.append(event)
        if not self._scheduled:
            self._scheduled = True
            if threading.get_ident() == self._loop_thread:
                self._schedule()
            else:
                self.loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        """Dispatch at once after a quiet spell, else one flush interval after the last."""
        due = self._dispatched_at + self.flush_interval
        if self.loop.time() >= due:
            self.loop.call_soon(self._dispatch)
        else:
            self.loop.call_at(due, self._dispatch)

    def _dispatch(self) -> None:
        self._scheduled = False  # before taking: an event queued from now on comes again
        self._dispatched_at = self.loop.time()
        flushing: list[Watcher] = []
        while self._pending:
            event = self._pending.popleft()
            self.dispatched_rv = max(self.dispatched_rv, event.resource_version)
            for watcher in self._watchers.get((event.group, event.resource), ()):
                if watcher.offer(event):
                    flushing.append(watcher)
        for watcher in flushing:
            watcher.flush()

    async def serve(self, request: Request, rt: ResourceType, target: Target) -> StreamResponse:
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
        response = StreamResponse(headers={"Content-Type": JSON, "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            if backlog is None:
                await response.write(dumps({"type": "ERROR", "object": gone.status()}) + b"\n")
                return response
            await self._stream(response, watcher, backlog)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            watcher.stop_alarm()
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
        self, response: StreamResponse, watcher: Watcher, backlog: list[tuple[str, WatchEvent]]
    ) -> None:
        watcher.room = self.cut_after()
        first = backlog[: watcher.room] if watcher.room is not None else backlog
        if first:
            await response.write(b"".join(watcher.encode(e, kind) for kind, e in first))
            watcher.sent_rv = max(watcher.sent_rv, *(e.resource_version for _, e in first))
            if watcher.room is not None:
                watcher.room -= len(first)
        if watcher.room == 0:
            return
        if watcher.options.initial_events and watcher.options.bookmarks:
            await response.write(self._bookmark(watcher, initial_events_end=True))
        watcher.response = response
        deadline = self.loop.time() + watcher.options.timeout
        bookmark_at = self._next_bookmark(deadline) if watcher.options.bookmarks else None
        while not self.closing.is_set():
            if self.loop.time() >= deadline:
                break
            if not watcher.events:
                until = deadline if bookmark_at is None else min(deadline, bookmark_at)
                await watcher.wait(self.loop, until)
            if not watcher.events:  # the alarm rang
                if bookmark_at is not None and self.loop.time() >= bookmark_at:
                    await response.write(self._bookmark(watcher))
                    bookmark_at = self._next_bookmark(deadline)
                continue
            chunks, ended = self._drain(watcher)
            if chunks:
                await response.write(b"".join(chunks))
            if ended:
                break

    @staticmethod
    def _drain(watcher: Watcher) -> tuple[list[bytes], bool]:
        """The queued events, encoded, so a burst of changes goes out in one write; True
        when the stream must end (closed, cut, too slow)."""
        chunks: list[bytes] = []
        events = watcher.events
        while events:
            event = events.popleft()
            if event is None:
                return chunks, True
            chunk = watcher.accept(event)
            if chunk is not None:
                chunks.append(chunk)
                if watcher.room == 0:
                    return chunks, True
        return chunks, False

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

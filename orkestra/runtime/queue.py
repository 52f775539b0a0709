"""The work queue of one controller: keys of CRs to reconcile, handed to its workers.

It follows client-go's semantics. A key is queued at most once (adding it again while it
waits is a no-op); a key being processed is never handed to a second worker, and adds that
arrive meanwhile are remembered (the key is "dirty") and queued again when the worker calls
:meth:`WorkQueue.done`. Keys may belong to a group (``group``: the CR an event-aware item
is about): distinct keys of one group wait in order and never run at the same time, so
events kept apart still reach one CR one at a time. Keys can be added after a delay (resync
spreading, conflicts) or rate-limited: each consecutive failure of a key doubles its delay,
with jitter, up to a cap, until :meth:`WorkQueue.forget` resets it. While paused (a follower
under leader election) the queue keeps collecting keys but hands none out;
:meth:`WorkQueue.shutdown` wakes every waiting worker with ``None``. Workers are tasks of
the event loop (:meth:`WorkQueue.next`); what changes the queue wakes them from any thread,
and its state may be read from any thread (metrics, tests).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

Clock = Callable[[], float]


def _itself(key: Hashable) -> Hashable:
    return key


def backoff_delay(
    failures: int, base: float, cap: float, jitter: float, rng: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after ``failures`` consecutive failures: ``base * 2**(failures-1)``
    capped at ``cap``, stretched by up to ``jitter`` (a fraction) so retries spread out."""
    exponent = min(max(failures - 1, 0), 62)
    return min(cap, base * 2.0**exponent) * (1 + jitter * rng())


class WorkQueue:
    """A deduplicating, delaying, rate-limiting queue of keys."""

    def __init__(
        self,
        *,
        base_delay: float = 0.005,
        max_delay: float = 300.0,
        jitter: float = 0.1,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
        group: Callable[[Hashable], Hashable] = _itself,
    ) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self._clock = clock
        self._rng = rng
        self._ready: deque[Hashable] = deque()
        self._dirty: set[Hashable] = set()  # waiting: ready, parked or due to be re-added
        self._processing: set[Hashable] = set()  # groups a worker holds
        self._parked: dict[Hashable, deque[Hashable]] = {}  # by group, while it is held
        self._parked_count = 0
        self._group = group
        self._waiting: dict[Hashable, float] = {}
        self._heap: list[tuple[float, int, Hashable]] = []
        self._seq = itertools.count()
        self._failures: dict[Hashable, int] = {}
        self._lock = threading.Lock()
        self._waiters: list[asyncio.Future[None]] = []
        self._paused = False
        self._closed = False

    # -- adding -----------------------------------------------------------------------
    def add(self, key: Hashable) -> None:
        with self._lock:
            self._add(key)

    def _add(self, key: Hashable) -> None:
        if self._closed or key in self._dirty:
            return
        self._dirty.add(key)
        if self._group(key) in self._processing:
            self._park(key)
        else:
            self._ready.append(key)
            self._wake()

    def _park(self, key: Hashable) -> None:
        """Hold ``key`` until its group's worker is done."""
        self._parked.setdefault(self._group(key), deque()).append(key)
        self._parked_count += 1

    def waiting(self, key: Hashable) -> bool:
        """Whether ``key`` is queued and not yet handed out (adding it changes nothing)."""
        with self._lock:
            return key in self._dirty

    def add_after(self, key: Hashable, delay: float) -> None:
        """Queue ``key`` in ``delay`` seconds (an earlier pending time wins)."""
        if delay <= 0:
            self.add(key)
            return
        with self._lock:
            if self._closed:
                return
            due = self._clock() + delay
            if self._waiting.get(key, due + 1) <= due:
                return
            self._waiting[key] = due
            heapq.heappush(self._heap, (due, next(self._seq), key))
            self._wake()

    def add_rate_limited(self, key: Hashable) -> float:
        """Queue ``key`` after its backoff delay; returns the delay."""
        with self._lock:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
        delay = backoff_delay(failures, self.base_delay, self.max_delay, self.jitter, self._rng)
        self.add_after(key, delay)
        return delay

    def forget(self, key: Hashable) -> None:
        """The key succeeded: its next failure starts the backoff over."""
        with self._lock:
            self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        with self._lock:
            return self._failures.get(key, 0)

    # -- taking -----------------------------------------------------------------------
    def take(self) -> Hashable | None:
        """The next key for a worker, marked as processing; None when none is ready (or the
        queue is paused or shut down)."""
        with self._lock:
            return self._take()[0]

    async def next(self) -> Hashable | None:
        """The next key for this worker (a task of the event loop), once there is one;
        None once the queue is shut down."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._closed:
                    return None
                key, wait = self._take()
                if key is not None:
                    return key
                waiter = loop.create_future()
                self._waiters.append(waiter)
            timer = None if wait is None else loop.call_later(wait, _settle, waiter)
            try:
                await waiter
            finally:
                if timer is not None:
                    timer.cancel()

    def _take(self) -> tuple[Hashable | None, float | None]:
        """A ready key (or None) and the seconds until the next delayed one is due."""
        wait = self._promote_due()
        if self._closed or self._paused:
            return None, wait
        return self._next(), wait

    def _wake(self) -> None:
        """Wake the waiting workers (they look again), from any thread."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            loop = waiter.get_loop()
            if loop.is_closed():
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                _settle(waiter)
            else:
                loop.call_soon_threadsafe(_settle, waiter)

    def _next(self) -> Hashable | None:
        """The first ready key whose group no worker holds (marked as processing)."""
        while self._ready:
            key = self._ready.popleft()
            group = self._group(key)
            if group in self._processing:
                self._park(key)
                continue
            self._processing.add(group)
            self._dirty.discard(key)
            return key
        return None

    def _promote_due(self) -> float | None:
        """Move due delayed keys to the ready queue; seconds until the next one is due."""
        now = self._clock()
        while self._heap:
            due, _, key = self._heap[0]
            if self._waiting.get(key) != due:
                heapq.heappop(self._heap)  # superseded by an earlier time
                continue
            if due > now:
                return due - now
            heapq.heappop(self._heap)
            del self._waiting[key]
            self._add(key)
        return None

    def done(self, key: Hashable) -> None:
        """The worker finished ``key``; if it was added meanwhile, it is queued again."""
        with self._lock:
            group = self._group(key)
            self._processing.discard(group)
            parked = self._parked.pop(group, None)
            if parked:
                self._parked_count -= len(parked)
                if not self._closed:
                    self._ready.extend(parked)
            self._wake()

    # -- control ----------------------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._wake()

    def shutdown(self) -> None:
        """Hand out nothing more; waiting workers get None."""
        with self._lock:
            self._closed = True
            self._wake()

    # -- introspection ----------------------------------------------------------------
    def __len__(self) -> int:
        """Keys waiting for a worker (the queue depth): ready, or held back while another
        key of their group is processed."""
        with self._lock:
            return len(self._ready) + self._parked_count

    @property
    def delayed(self) -> int:
        with self._lock:
            return len(self._waiting)

    @property
    def processing(self) -> int:
        with self._lock:
            return len(self._processing)

    @property
    def shut_down(self) -> bool:
        return self._closed


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)

"""The relay of a typed hook's cluster calls to the reconcile, run as the runtime runs it:
the reconcile in a worker greenlet on an event loop, the callbacks in a thread of their own."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import pytest

from orkestra.greenbridge import run_sync, wait_for
from orkestra.hooks.api import HookError
from orkestra.hooks.runner import _Relay


def callbacks(relay: _Relay, calls: list[object]) -> threading.Thread:
    """A callbacks' thread making two relayed calls, then finishing."""

    def run() -> None:
        try:
            calls.append(relay(lambda: wait_for(asyncio.sleep(0.01)) or "first"))
            calls.append(relay(lambda: "second"))
        except HookError as exc:
            calls.append(exc)
        finally:
            relay.finished()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_calls_are_made_by_the_worker_while_the_loop_goes_on() -> None:
    relay = _Relay()
    calls: list[object] = []
    ticks: list[float] = []

    async def main() -> bool:
        async def tick() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.005)

        ticking = asyncio.ensure_future(tick())
        thread = callbacks(relay, calls)
        try:
            return await run_sync(relay.serve, time.monotonic() + 5)
        finally:
            ticking.cancel()
            thread.join(5)

    assert asyncio.run(main()) is True
    assert calls == ["first", "second"]
    assert len(ticks) >= 2


class WatchedQueue(queue.SimpleQueue[object]):
    """The relay's queue, telling when a wait for a call ends."""

    def __init__(self) -> None:
        self.waits_ended = threading.Event()

    def get(self, block: bool = True, timeout: float | None = None) -> object:
        try:
            return super().get(block, timeout)
        finally:
            if timeout is not None:
                self.waits_ended.set()


def test_a_cancelled_worker_refuses_the_pending_call_and_frees_its_waiting_thread() -> None:
    relay = _Relay()
    relay._queue = watched = WatchedQueue()  # type: ignore[assignment]
    calls: list[object] = []
    started = threading.Event()

    async def main() -> None:
        def serve() -> bool:
            started.set()
            return relay.serve(time.monotonic() + 30)

        worker = asyncio.ensure_future(run_sync(serve))
        await asyncio.sleep(0.05)  # the worker waits for a call
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker

    asyncio.run(main())
    assert started.is_set()
    assert watched.waits_ended.wait(2)  # not blocked for the 30 s the wait was given
    thread = callbacks(relay, calls)
    thread.join(5)
    assert not thread.is_alive()
    assert len(calls) == 1 and isinstance(calls[0], HookError)

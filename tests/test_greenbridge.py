"""Synchronous code on the event loop: waits, results, errors, cancellation, blocking calls."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from orkestra.greenbridge import call_blocking, in_worker, run_sync, wait_for


def test_a_function_waits_for_coroutines_and_returns_what_it_computed() -> None:
    async def double(value: int) -> int:
        await asyncio.sleep(0)
        return value * 2

    def function(start: int) -> list[int]:
        return [wait_for(double(start)), wait_for(double(start + 1))]

    assert asyncio.run(run_sync(function, 5)) == [10, 12]


def test_workers_interleave_at_their_waits_on_one_thread() -> None:
    order: list[str] = []
    threads: set[int] = set()

    def worker(name: str) -> None:
        for step in range(3):
            threads.add(threading.get_ident())
            order.append(f"{name}{step}")
            wait_for(asyncio.sleep(0.01))

    async def main() -> None:
        await asyncio.gather(run_sync(worker, "a"), run_sync(worker, "b"))

    asyncio.run(main())
    assert order == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert threads == {threading.get_ident()}


def test_an_awaited_error_is_raised_at_the_wait_and_can_be_handled_there() -> None:
    async def fail() -> None:
        raise KeyError("gone")

    def function() -> str:
        try:
            wait_for(fail())
        except KeyError as exc:
            return f"handled {exc}"
        return "not raised"

    assert asyncio.run(run_sync(function)) == "handled 'gone'"


def test_an_error_of_the_function_reaches_the_awaiting_task() -> None:
    def function() -> None:
        wait_for(asyncio.sleep(0))
        raise ValueError("engine bug")

    with pytest.raises(ValueError, match="engine bug"):
        asyncio.run(run_sync(function))


def test_cancelling_the_task_cancels_the_wait_and_ends_the_function() -> None:
    reached: list[str] = []

    def function() -> None:
        try:
            wait_for(asyncio.sleep(30))
        finally:
            reached.append("finally")
        reached.append("after")  # not reached: the cancellation propagates

    async def main() -> None:
        task = asyncio.ensure_future(run_sync(function))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert reached == ["finally"]


def test_wait_for_outside_a_worker_is_an_error() -> None:
    assert not in_worker()
    with pytest.raises(RuntimeError, match="outside a greenlet"):
        wait_for(asyncio.sleep(0))


def test_in_worker_tells_where_the_code_runs() -> None:
    assert asyncio.run(run_sync(in_worker)) is True
    assert in_worker() is False


def test_a_blocking_call_from_a_worker_leaves_the_loop_running() -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    def function() -> int:
        thread = call_blocking(lambda: (time.sleep(0.2), threading.get_ident())[1])
        return int(thread)

    async def main() -> int:
        ticking = asyncio.ensure_future(ticker())
        try:
            return await run_sync(function)
        finally:
            ticking.cancel()

    thread = asyncio.run(main())
    assert thread != threading.get_ident()  # it ran on an executor thread
    assert len(ticks) >= 5  # and the loop kept ticking meanwhile


def test_a_blocking_call_elsewhere_runs_in_place() -> None:
    assert call_blocking(threading.get_ident) == threading.get_ident()


def test_a_worker_greenlet_serves_one_call_after_another() -> None:
    import greenlet

    def failing() -> None:
        wait_for(asyncio.sleep(0))
        raise ValueError("first call fails")

    def current() -> object:
        wait_for(asyncio.sleep(0))
        return greenlet.getcurrent()

    async def main() -> tuple[object, object]:
        with pytest.raises(ValueError):
            await run_sync(failing)
        return await run_sync(current), await run_sync(current)

    first, second = asyncio.run(main())
    assert first is second  # started once, lent again after the failure and each call


def test_an_idle_worker_holds_nothing_of_its_last_call() -> None:
    import gc
    import weakref

    class Result:
        pass

    def make() -> Result:
        wait_for(asyncio.sleep(0))
        return Result()

    async def main() -> weakref.ref[Result]:
        return weakref.ref(await run_sync(make))

    ref = asyncio.run(main())
    gc.collect()
    assert ref() is None

"""The work queue: deduplication, keys in processing, delays, backoff, pause, shutdown."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import pytest

from orkestra.runtime.queue import WorkQueue, backoff_delay


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_waiting_is_queued_once() -> None:
    queue = WorkQueue()
    for key in ("a", "b", "a", "a"):
        queue.add(key)
    assert len(queue) == 2
    assert [queue.take(), queue.take(), queue.take()] == ["a", "b", None]


def test_a_key_in_processing_goes_to_no_second_worker_and_is_remembered() -> None:
    queue = WorkQueue()
    queue.add("a")
    assert queue.take() == "a"
    queue.add("a")  # changed while a worker reconciles it
    queue.add("a")
    assert queue.take() is None
    assert queue.processing == 1
    queue.done("a")
    assert queue.take() == "a"
    queue.done("a")
    assert queue.take() is None


def test_done_without_a_new_add_forgets_the_key() -> None:
    queue = WorkQueue()
    queue.add("a")
    queue.done(queue.take() or "")
    assert len(queue) == 0
    assert queue.processing == 0


def test_delayed_keys_come_out_when_due_and_the_earliest_time_wins() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("a", 10)
    queue.add_after("a", 5)
    queue.add_after("a", 20)
    assert queue.delayed == 1
    assert queue.take() is None
    clock.now += 5
    assert queue.take() == "a"
    assert queue.delayed == 0


def test_a_delayed_key_already_waiting_is_not_queued_twice() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add("a")
    queue.add_after("a", 1)
    clock.now += 1
    assert queue.take() == "a"
    assert queue.take() is None


def next_key(queue: WorkQueue, timeout: float = 2.0) -> object:
    """What a worker waiting on ``queue`` gets (TimeoutError if nothing comes)."""

    async def wait() -> object:
        return await asyncio.wait_for(queue.next(), timeout)

    return asyncio.run(wait())


def test_a_waiting_worker_wakes_when_a_delay_ends() -> None:
    queue = WorkQueue()
    queue.add_after("a", 0.05)
    started = time.monotonic()
    assert next_key(queue) == "a"
    assert time.monotonic() - started >= 0.04


def test_a_waiting_worker_wakes_when_another_thread_adds() -> None:
    queue = WorkQueue()
    threading.Timer(0.05, queue.add, ["a"]).start()
    assert next_key(queue) == "a"


@pytest.mark.parametrize("failures,expected", [(1, 0.005), (2, 0.01), (5, 0.08), (40, 300.0)])
def test_backoff_doubles_up_to_the_cap(failures: int, expected: float) -> None:
    assert backoff_delay(failures, 0.005, 300.0, 0.1, rng=lambda: 0.0) == pytest.approx(expected)
    stretched = backoff_delay(failures, 0.005, 300.0, 0.1, rng=lambda: 0.999)
    assert expected <= stretched <= expected * 1.1


def test_rate_limited_adds_back_off_until_forgotten() -> None:
    clock = FakeClock()
    queue = WorkQueue(base_delay=1.0, max_delay=60.0, jitter=0.5, clock=clock)
    delays = [queue.add_rate_limited("a") for _ in range(4)]
    for number, delay in enumerate(delays):
        assert 2**number <= delay <= 2**number * 1.5
    assert queue.failures("a") == 4
    queue.forget("a")
    assert queue.failures("a") == 0
    assert queue.add_rate_limited("a") <= 1.5


def test_a_paused_queue_collects_keys_but_hands_none_out() -> None:
    queue = WorkQueue()
    queue.pause()
    queue.add("a")
    assert queue.take() is None
    with pytest.raises(TimeoutError):
        next_key(queue, timeout=0.05)
    assert len(queue) == 1
    threading.Timer(0.02, queue.resume).start()
    assert next_key(queue) == "a"


def test_shutdown_wakes_waiting_workers_with_none_and_refuses_new_keys() -> None:
    queue = WorkQueue()

    async def workers() -> list[object]:
        waiting = [asyncio.ensure_future(queue.next()) for _ in range(3)]
        await asyncio.sleep(0.02)
        queue.shutdown()
        return list(await asyncio.wait_for(asyncio.gather(*waiting), 2))

    assert asyncio.run(workers()) == [None, None, None]
    queue.add("a")
    assert len(queue) == 0
    assert queue.shut_down


def test_a_key_done_hands_its_parked_successor_to_a_waiting_worker() -> None:
    queue = WorkQueue(group=by_letter)
    queue.add("a1")
    first = queue.take()
    queue.add("a2")  # parked behind a1
    threading.Timer(0.02, queue.done, [first]).start()
    assert next_key(queue) == "a2"


def test_concurrent_workers_never_hold_the_same_key() -> None:
    queue = WorkQueue()
    holding: set[object] = set()
    clashes: list[object] = []
    readds = iter(range(300))

    async def work() -> None:
        while (key := await queue.next()) is not None:
            if key in holding:
                clashes.append(key)
            holding.add(key)
            if next(readds, None) is not None:
                queue.add(key)  # an event for a key being reconciled
            await asyncio.sleep(0)  # the other workers take keys meanwhile
            holding.discard(key)
            queue.done(key)

    for number in range(200):
        queue.add(f"k{number % 7}")
    run_workers(queue, work)
    assert not clashes
    assert len(queue) == 0


def run_workers(queue: WorkQueue, work: Callable[[], Awaitable[None]]) -> None:
    """Four workers on one loop until the queue has been empty a moment, then shut down."""

    async def main() -> None:
        workers = [asyncio.ensure_future(work()) for _ in range(4)]
        while len(queue) or queue.processing:
            await asyncio.sleep(0.01)
        queue.shutdown()
        await asyncio.wait_for(asyncio.gather(*workers), 5)

    asyncio.run(main())


def by_letter(key: object) -> object:
    """The group of a test key: its first letter ("a1" and "a2" are about one thing)."""
    return str(key)[0]


def test_keys_of_one_group_stay_apart_but_are_handed_out_one_at_a_time_in_order() -> None:
    queue = WorkQueue(group=by_letter)
    for key in ("a1", "a2", "b1", "a3"):
        queue.add(key)
    assert len(queue) == 4  # distinct keys: nothing merged
    assert queue.take() == "a1"
    assert queue.take() == "b1"  # a2 waits for a1's worker
    assert queue.take() is None
    assert len(queue) == 2 and queue.waiting("a2") and not queue.waiting("a1")
    queue.add("a4")  # arrives while a1 is processed
    queue.done("a1")
    assert [queue.take(), queue.take()] == ["a2", None]
    queue.done("a2")
    assert [queue.take(), queue.take()] == ["a3", None]
    queue.done("a3")
    assert queue.take() == "a4"


def test_concurrent_workers_never_hold_two_keys_of_one_group() -> None:
    queue = WorkQueue(group=by_letter)
    holding: set[object] = set()
    clashes: list[object] = []
    taken: list[object] = []

    async def work() -> None:
        while (key := await queue.next()) is not None:
            group = by_letter(key)
            if group in holding:
                clashes.append(key)
            holding.add(group)
            taken.append(key)
            await asyncio.sleep(0)  # the other workers take keys meanwhile
            holding.discard(group)
            queue.done(key)

    for number in range(300):
        queue.add(f"{'abc'[number % 3]}{number}")
    run_workers(queue, work)
    assert not clashes
    assert len(taken) == 300 and len(queue) == 0
    for letter in "abc":  # each group's keys in the order they came
        numbers = [int(str(k)[1:]) for k in taken if str(k)[0] == letter]
        assert numbers == sorted(numbers)

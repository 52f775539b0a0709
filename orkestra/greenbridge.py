"""Synchronous code on the event loop: greenlets that wait for awaitables.

The reconcile engine is synchronous (simulate, plan and e2e run it with no event loop), and
the runtime's I/O is asynchronous. :func:`run_sync` runs a synchronous function in a greenlet
of the event loop's own thread; when that code needs an answer from the network it calls
:func:`wait_for` with a coroutine, which hands the coroutine to the loop and switches back
to the function once it is done. Several such greenlets (the runtime's workers) interleave
on the one thread at their waits, as tasks do.

Why not threads: ``ork run``'s workers were threads with blocking sockets, and each
blocking call handed the GIL to another thread and back (~17 context switches per CR of the
operator benchmark), each answer waiting for its thread to get the GIL again. On the loop's
thread none of that happens: in interleaved runs the benchmark's CRs were all Ready 16%
sooner at 10,000 and 12% sooner at 1,000 (medians; ``orkestra.runtime``'s docstring has
the figures). This is the pattern of SQLAlchemy's
asyncio layer, written here because SQLAlchemy's is internal API; it rests on the greenlet
library (the base of gevent), which does the stack switching.

:func:`call_blocking` is for what must block (a thread's queue, a library with its own
sockets): from a worker greenlet it runs on a thread of an executor of its own (not the
loop's default one, which others use for short calls: a typed hook's relay may wait there
for as long as the hook's timeout), elsewhere in place.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import greenlet

T = TypeVar("T")


class _Worker(greenlet.greenlet):
    """A greenlet of :func:`run_sync`: runs one function at a time, for as many calls as it
    is lent to (starting a greenlet costs ~9 µs, a switch well under one; a worker of
    ``ork run`` runs one per reconcile). Its ``parent`` is the task's greenlet, which it
    hands wait requests to and, once the function is done, :data:`_DONE` with the
    :attr:`outcome` set."""

    outcome: _Outcome | None = None

    def run(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        while True:
            try:
                self.outcome = _Outcome(function(*args), None)
            except greenlet.GreenletExit:
                raise  # collected while its task was gone: end for good
            except BaseException as exc:  # the awaiting task gets it, cancellation included
                self.outcome = _Outcome(None, exc)
                del exc
            del function, args  # nothing of a finished call is held while idle
            driver = self.parent
            assert driver is not None  # the main greenlet, at least
            function, args = driver.switch(_DONE)


class _Outcome:
    """What a function run by a :class:`_Worker` returned or raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any, error: BaseException | None) -> None:
        self.value = value
        self.error = error

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


_DONE = object()  # a worker's switch back when its function has returned or raised
IDLE_WORKERS = 64  # greenlets kept per thread for the next calls


class _Idle(threading.local):
    """The idle workers of each thread (a greenlet runs only on the thread that made it)."""

    def __init__(self) -> None:
        self.workers: list[_Worker] = []


_idle = _Idle()


def in_worker() -> bool:
    """Whether the caller runs in a greenlet of :func:`run_sync` (so it may :func:`wait_for`)."""
    return isinstance(greenlet.getcurrent(), _Worker)


async def run_sync(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, run so that the awaitables it :func:`wait_for`\\ s are awaited by
    the calling task; its result or exception."""
    idle = _idle.workers
    worker = idle.pop() if idle else _Worker()
    worker.parent = greenlet.getcurrent()
    request = worker.switch(function, args)
    while request is not _DONE:
        try:
            answer = await request
        except BaseException as exc:  # the waiting code gets it, cancellation included
            request = worker.throw(exc)
        else:
            request = worker.switch(answer)
    outcome, worker.outcome = worker.outcome, None
    if len(idle) < IDLE_WORKERS:
        idle.append(worker)
    assert outcome is not None
    return outcome.result()  # type: ignore[no-any-return]  # the function's return value


def wait_for(awaitable: Awaitable[T]) -> T:
    """From a greenlet of :func:`run_sync`: the awaitable's result, once the loop has it."""
    current = greenlet.getcurrent()
    driver = current.parent if isinstance(current, _Worker) else None
    if driver is None:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never awaited: no warning about that
        raise RuntimeError("wait_for outside a greenlet of run_sync")
    return driver.switch(awaitable)  # type: ignore[no-any-return]


BLOCKING_THREADS = 64  # at most one per worker waits at a time; more workers queue
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def call_blocking(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` that may block: in a worker greenlet, on a thread of the bridge's
    executor while the loop goes on; elsewhere, right here."""
    if not in_worker():
        return function(*args)
    return wait_for(asyncio.get_running_loop().run_in_executor(_blocking(), function, *args))


def _blocking() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(BLOCKING_THREADS, thread_name_prefix="blocking")
        return _executor

"""Event loops: uvloop's where it is installed, asyncio's otherwise.

The embedded API server and the runtime spend much of their time in the event loop's
transports and TLS; uvloop's cost measurably less CPU there (about 8% of the whole server,
15% of the runtime's event-loop thread, in the operator benchmark). Kopf's CLI makes the
same choice, so benchmarks against it compare like with like.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the best loop available."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)

"""How often and how patiently registry calls are retried, and how long they may take.

Two deadlines bound the time spent waiting on registries, whatever a server does (a
registry that trickles one byte a second defeats a per-read timeout, not these):

* each HTTP request, with everything it reads and writes (the auth challenge and token
  requests included), must end within :attr:`Deadlines.request` seconds (2 minutes);
* all the registry requests of one command, with the pauses between retries, share
  :attr:`Deadlines.command` seconds (10 minutes; ``--timeout`` or ``ORK_TIMEOUT``). This is
  time spent on the network, not wall time: ``ork push``'s gates do not count against it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from orkestra.errors import UsageError
from orkestra.registry.errors import RegistryError
from orkestra.units import DurationError, format_duration, parse_duration

DEFAULT_REQUEST_SECONDS = 120.0
DEFAULT_COMMAND_SECONDS = 600.0
TIMEOUT_ENV = "ORK_TIMEOUT"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``Retry-After`` (seconds) wins when sent."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        import random  # only once a request is retried

        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_delay)
        backoff: float = min(self.base_delay * 2.0**attempt, self.max_delay)
        return backoff * (0.5 + random.random() / 2)


class DeadlineError(RegistryError):
    """A registry request, or all the registry requests of a command, took too long."""


@dataclass(frozen=True)
class _Window:
    """The request in progress: when it must end, and which limit set that."""

    until: float
    seconds: float
    by_command: bool


class Deadlines:
    """The time limits of one command's registry requests (see the module docstring)."""

    def __init__(
        self,
        command: float | None = DEFAULT_COMMAND_SECONDS,
        request: float = DEFAULT_REQUEST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.command = command
        self.request = request
        self.clock = clock
        self.spent = 0.0
        self._local = threading.local()

    @classmethod
    def from_env(cls, env: Mapping[str, str], timeout: float | None = None) -> Deadlines:
        """``timeout`` (``--timeout``) if given, else ``ORK_TIMEOUT``, else the default."""
        if timeout is not None:
            return cls(command=timeout)
        text = env.get(TIMEOUT_ENV, "").strip()
        if not text:
            return cls()
        try:
            seconds = parse_duration(text)
        except DurationError as exc:
            raise UsageError(f"{TIMEOUT_ENV}: {exc}", hint="e.g. ORK_TIMEOUT=5m") from None
        if seconds <= 0:
            raise UsageError(f"{TIMEOUT_ENV}: must be longer than 0s", hint="e.g. ORK_TIMEOUT=5m")
        return cls(command=seconds)

    def left(self) -> float | None:
        """What remains of the command's allowance (None: unlimited)."""
        return None if self.command is None else self.command - self.spent

    @contextmanager
    def window(self, what: str, host: str) -> Iterator[None]:
        """Time one request: it must end by the earlier of both deadlines."""
        left = self.left()
        by_command = left is not None and left < self.request
        seconds = left if by_command and left is not None else self.request
        if seconds <= 0:
            raise self._error(what, host, _Window(0.0, 0.0, True))
        start = self.clock()
        previous = getattr(self._local, "window", None)
        self._local.window = _Window(start + seconds, seconds, by_command)
        try:
            yield
        finally:
            self._local.window = previous
            if previous is None:
                self.spent += self.clock() - start

    def remaining(self) -> float | None:
        """Seconds left for the request in progress on this thread (None: none is)."""
        window: _Window | None = getattr(self._local, "window", None)
        return None if window is None else window.until - self.clock()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def check(self, what: str, host: str) -> None:
        """Fail when the request in progress is past its deadline."""
        if self.expired():
            raise self.error(what, host)

    def error(self, what: str, host: str) -> DeadlineError:
        """The error for the request in progress having run out of time."""
        window: _Window | None = getattr(self._local, "window", None)
        return self._error(what, host, window or _Window(0.0, self.request, False))

    def _error(self, what: str, host: str, window: _Window) -> DeadlineError:
        if window.by_command:
            limit = format_duration(self.command or 0.0)
            return DeadlineError(
                f"{what}: {host} did not answer in time (this command may wait on registries "
                f"for {limit} in all)",
                hint="allow more with --timeout (or ORK_TIMEOUT), e.g. --timeout 30m, or check "
                f"that {host} is healthy and reachable",
            )
        return DeadlineError(
            f"{what}: {host} did not complete the request within {format_duration(window.seconds)}",
            hint=f"{host} is stalled or very slow; check it and the network, then run the "
            "command again",
        )

    def sleep(self, seconds: float) -> None:
        """Pause between retries, counted against the command's allowance (never beyond)."""
        left = self.left()
        pause = max(0.0, min(seconds, left)) if left is not None else seconds
        time.sleep(pause)
        self.spent += pause

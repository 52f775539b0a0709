"""Fault injection: the embedded server misbehaving on purpose, the way real ones do.

Tests of clients (the runtime above all) need conflicts, server errors, cut watch streams
and expired resourceVersions. They are injected here, at the server, so the client under
test runs unmodified: a share of writes is answered 409 Conflict without effect, a share of
resource requests 500, and watch streams end after a number of events;
:meth:`orkestra.apiserver.EmbeddedServer.expire_history` makes every resumed watch and
continued list answer 410 Gone.
Disabled unless configured; a seed makes a run repeatable.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from orkestra.cluster.errors import ApiError, ConflictError

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class InjectedError(ApiError):
    code = 500
    reason = "InternalError"


@dataclass(kw_only=True)
class Faults:
    conflict_ratio: float = 0.0
    error_ratio: float = 0.0
    watch_cut_every: int | None = None
    seed: int | None = None
    only_paths: tuple[str, ...] = ()  # limit injection to URLs containing one of these
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def pick(self, method: str, path: str) -> ApiError | None:
        """The error to answer this request with, if any."""
        if self.only_paths and not any(p in path for p in self.only_paths):
            return None
        if method in WRITES and self._random.random() < self.conflict_ratio:
            self.injected["conflict"] += 1
            return ConflictError(
                "Operation cannot be fulfilled: the object has been "
                "modified; please apply your changes to the latest version "
                "and try again (injected)"
            )
        if self._random.random() < self.error_ratio:
            self.injected["error"] += 1
            return InjectedError("Internal error occurred: injected fault")
        return None

    def cut_after(self) -> int | None:
        return self.watch_cut_every

"""How often and how patiently idempotent registry calls are retried."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``Retry-After`` (seconds) wins when sent."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_delay)
        backoff: float = min(self.base_delay * 2.0 ** attempt, self.max_delay)
        return backoff * (0.5 + random.random() / 2)

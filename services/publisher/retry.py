"""Webhook retry schedule: exponential backoff with full jitter and a maximum number of attempts (pure).

Attempt ``n`` (1-based) that fails waits ``uniform(0, min(cap, base * 2**(n-1)))`` before attempt ``n+1``;
after ``max_attempts`` failed attempts the delivery goes to the subscription's dead-letter list.
The RNG is injected so the schedule is testable without sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

Uniform = Callable[[float, float], float]


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 0.5
    max_seconds: float = 60.0
    max_attempts: int = 8

    def ceiling(self, attempt: int) -> float:
        """The largest wait after failed attempt ``attempt`` (1-based)."""
        return min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))

    def delay(self, attempt: int, uniform: Uniform = random.uniform) -> float | None:
        """Seconds to wait after failed attempt ``attempt``, or None when no attempt is left."""
        if attempt >= self.max_attempts:
            return None
        return uniform(0.0, self.ceiling(attempt))

    def schedule(self, uniform: Uniform = random.uniform) -> list[float]:
        """Every wait a delivery that always fails would see, in order (``max_attempts - 1`` of them)."""
        return [d for a in range(1, self.max_attempts) if (d := self.delay(a, uniform)) is not None]



def delivered(status: int | None) -> bool:
    """Only a 2xx answer counts as delivered; anything else (including a network error, None) is retried."""
    return status is not None and 200 <= status < 300

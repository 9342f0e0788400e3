"""Back-off between wrong PINs, per card.

A card's own retry counter stops guessing after a few tries, but only cards that have one
(SoftHSM2 has none), and a page that sends PINs in a loop would still burn a holder's tries in
a second. After the n-th consecutive wrong PIN the card refuses further PINs for
``base * 2**(n-1)`` seconds (capped); a correct PIN clears the count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int
    until: float


class PinAttemptLimiter:
    def __init__(
        self,
        base_delay: float,
        max_delay: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base_delay
        self._max = max_delay
        self._clock = clock
        self._failures: dict[str, _Failures] = {}

    def retry_after(self, key: str) -> float | None:
        """Seconds to wait before a PIN may be tried on ``key``, or None if it may now."""
        failures = self._failures.get(key)
        if failures is None:
            return None
        wait = failures.until - self._clock()
        return wait if wait > 0 else None

    def failed(self, key: str) -> None:
        previous = self._failures.get(key)
        count = previous.count + 1 if previous else 1
        delay = min(self._base * 2 ** (count - 1), self._max)
        self._failures[key] = _Failures(count, self._clock() + delay)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

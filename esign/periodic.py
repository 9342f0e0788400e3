"""A background worker that runs one step again and again: at once while the step finds work, then
after ``interval`` seconds or as soon as someone calls ``wake`` (e.g. after a commit that created
work). Errors are logged and the loop goes on; cancellation stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("esign.periodic")


class PeriodicWorker:
    def __init__(self, name: str, step: Callable[[], Awaitable[int]], interval: float, *, lanes: int = 1) -> None:
        """``lanes``: how many loops run the step side by side, for a step whose work they can
        share (rows claimed with ``SKIP LOCKED``): one lane's database round trips then overlap
        another's CPU work in a thread. A wake-up wakes them all."""
        self.name = name
        self._step = step
        self._interval = interval
        self._lanes = lanes
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await asyncio.gather(*(self._lane() for _ in range(self._lanes)))

    async def _lane(self) -> None:
        while True:
            try:
                if await self._step():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a periodic worker outlives any one failed round
                log.warning("worker_error", worker=self.name, error=type(exc).__name__, detail=str(exc)[:300])
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            except TimeoutError:
                pass
            self._wake.clear()

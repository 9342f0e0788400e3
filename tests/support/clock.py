"""A clock a test can stop: real time until `frozen` is set, so a business-date rule can be tried
at 01:30 in Istanbul whatever time the suite runs (no sleeping, no patching of `datetime`)."""

from __future__ import annotations

from datetime import datetime

from esign.clock import Clock


class SettableClock(Clock):
    def __init__(self) -> None:
        self.frozen: datetime | None = None

    def now(self) -> datetime:
        return self.frozen or super().now()

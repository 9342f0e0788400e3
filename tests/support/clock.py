"""A clock a test can stop or move: real time until `frozen` is set, so a business-date rule can be
tried at 01:30 in Istanbul whatever time the suite runs, and real time moved by `offset` so a
deadline can be passed (no sleeping, no patching of `datetime`). A test that moves it puts it back."""

from __future__ import annotations

from datetime import datetime, timedelta

from esign.clock import Clock


class SettableClock(Clock):
    def __init__(self) -> None:
        self.frozen: datetime | None = None
        self.offset = timedelta()

    @classmethod
    def at(cls, moment: datetime) -> SettableClock:
        """A clock stopped at ``moment``."""
        clock = cls()
        clock.frozen = moment
        return clock

    def now(self) -> datetime:
        return self.frozen or super().now() + self.offset

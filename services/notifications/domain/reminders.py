"""Expiry reminder rules: which step of the schedule is due for a certificate, and the digest
period an officer digest belongs to. Pure functions of the clock they are given."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class DueReminder:
    days_before: int  # the step to send now: the most recent one whose day has come
    skipped: tuple[int, ...]  # earlier steps whose day passed unsent (e.g. the scheduler was down)


def due_reminder(
    not_after: datetime, *, steps: tuple[int, ...], now: datetime, recorded: set[int]
) -> DueReminder | None:
    """The one reminder to send now, if any. A scheduler down for weeks sends the latest due step
    once and records the missed earlier ones as skipped, instead of a burst of stale warnings."""
    if now >= not_after:
        return None  # expired: a warning would only confuse
    due = sorted(s for s in steps if not_after - timedelta(days=s) <= now)
    if not due or due[0] in recorded or any(r <= due[0] for r in recorded):
        return None
    return DueReminder(due[0], tuple(s for s in due[1:] if s not in recorded))


def parse_steps(raw: str) -> tuple[int, ...]:
    steps = tuple(sorted({int(part) for part in raw.replace(" ", "").split(",") if part}, reverse=True))
    if not steps or any(s <= 0 for s in steps):
        raise ValueError("reminder days must be positive integers, e.g. 40,14,3")
    return steps


class DigestPeriod(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    def key(self, now: datetime) -> str:
        """The period ``now`` falls in; one digest per institution per key."""
        if self is DigestPeriod.DAILY:
            return now.strftime("%Y-%m-%d")
        if self is DigestPeriod.WEEKLY:
            year, week, _ = now.isocalendar()
            return f"{year}-W{week:02d}"
        return now.strftime("%Y-%m")


def days_left(not_after: datetime, now: datetime) -> int:
    return max((not_after - now).days, 0)

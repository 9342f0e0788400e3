"""The one clock every service is given: `now()` is an aware UTC instant (for timestamps, leases,
windows), `today()` is the business date, the calendar day in Europe/Istanbul.

A business date is never `date.today()`: that is the *host's* day, and a container runs in UTC,
three hours behind Istanbul, so between 00:00 and 03:00 Istanbul time it names yesterday (issue
10: a signed form received that night was refused as "in the future"). Services take a `Clock`
in `create_app(..., clock=)`; handlers take it as `clock=`; tests pass one they can set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TIMEZONE = ZoneInfo("Europe/Istanbul")


def business_date(moment: datetime) -> date:
    """The Istanbul calendar day of an aware instant."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no business date: give it a time zone")
    return moment.astimezone(BUSINESS_TIMEZONE).date()


class Clock:
    """Real time. Subclass (or pass another object with these two methods) to control it."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return business_date(self.now())


SYSTEM_CLOCK = Clock()

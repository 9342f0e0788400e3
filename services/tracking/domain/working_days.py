"""Working-day arithmetic for the delivery promise ("about 10 working days").

Saturdays and Sundays are not working days. Turkish public holidays are ignored on purpose (the
issue allows it): around a holiday a shipment may be flagged a day or two early, which errs on the
side of someone looking at it. Dates are local calendar dates (Europe/Istanbul) chosen by the caller.
"""

from __future__ import annotations

from datetime import date, timedelta

SATURDAY = 5


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def delivery_deadline(handed_over_on: date, working_days: int) -> date:
    """The last day the promise holds: a parcel handed over on ``handed_over_on`` is late from the
    day after this one."""
    return add_working_days(handed_over_on, working_days)


def is_overdue(handed_over_on: date, today: date, working_days: int) -> bool:
    return today > delivery_deadline(handed_over_on, working_days)


def latest_overdue_hand_over(today: date, working_days: int) -> date:
    """The latest hand-over date that is overdue ``today``: every shipment handed over on or before
    it is late (the deadline grows with the hand-over date, so one cut-off serves a query)."""
    day = today - timedelta(days=1)
    while not is_overdue(day, today, working_days):
        day -= timedelta(days=1)
    return day

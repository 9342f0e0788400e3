"""Working-day arithmetic of the delivery promise (weekends excluded, public holidays ignored)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.tracking.domain.working_days import (
    add_working_days,
    delivery_deadline,
    is_overdue,
    latest_overdue_hand_over,
)

MONDAY = date(2026, 3, 2)
FRIDAY = date(2026, 3, 6)
SATURDAY = date(2026, 3, 7)


def test_ten_working_days_from_a_monday_is_the_monday_two_weeks_later():
    assert delivery_deadline(MONDAY, 10) == date(2026, 3, 16)


def test_a_friday_hand_over_skips_two_weekends():
    assert add_working_days(FRIDAY, 1) == date(2026, 3, 9)  # Monday
    assert delivery_deadline(FRIDAY, 10) == date(2026, 3, 20)  # Friday two weeks later


def test_a_weekend_hand_over_counts_from_monday():
    assert delivery_deadline(SATURDAY, 1) == date(2026, 3, 9)
    assert delivery_deadline(SATURDAY, 10) == delivery_deadline(date(2026, 3, 8), 10) == date(2026, 3, 20)


def test_overdue_from_the_day_after_the_deadline():
    assert not is_overdue(FRIDAY, date(2026, 3, 20), 10)
    assert is_overdue(FRIDAY, date(2026, 3, 21), 10)  # Saturday after the deadline: late, someone should look


@pytest.mark.parametrize("today", [MONDAY + timedelta(days=n) for n in range(30)])
def test_the_cut_off_splits_overdue_from_not_yet_overdue(today):
    cutoff = latest_overdue_hand_over(today, 10)
    assert is_overdue(cutoff, today, 10)
    assert not is_overdue(cutoff + timedelta(days=1), today, 10)
    for earlier in range(1, 10):
        assert is_overdue(cutoff - timedelta(days=earlier), today, 10)

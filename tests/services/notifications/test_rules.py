"""Pure rules: which reminder step is due, digest periods, retry backoff and outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.notifications.domain.delivery import (
    DeliveryStatus,
    PermanentSendError,
    RetryPolicy,
    Sent,
    TransientSendError,
    outcome_of,
)
from services.notifications.domain.reminders import (
    DigestPeriod,
    due_reminder,
    parse_steps,
)

END = datetime(2027, 3, 1, 12, tzinfo=timezone.utc)
STEPS = (40, 14, 3)


def days_before(n: float) -> datetime:
    return END - timedelta(days=n)


def test_nothing_is_due_before_the_first_step():
    assert due_reminder(END, steps=STEPS, now=days_before(40.01), recorded=set()) is None


def test_the_40_day_warning_is_due_on_its_day():
    assert due_reminder(END, steps=STEPS, now=days_before(40), recorded=set()).days_before == 40


def test_a_step_already_sent_is_not_due_again():
    assert due_reminder(END, steps=STEPS, now=days_before(20), recorded={40}) is None


def test_a_scheduler_down_for_weeks_sends_the_latest_step_once_and_skips_the_missed_ones():
    due = due_reminder(END, steps=STEPS, now=days_before(2), recorded=set())
    assert (due.days_before, due.skipped) == (3, (14, 40))
    assert due_reminder(END, steps=STEPS, now=days_before(1), recorded={3, 14, 40}) is None


def test_the_next_step_comes_after_the_previous_was_sent():
    due = due_reminder(END, steps=STEPS, now=days_before(13), recorded={40})
    assert (due.days_before, due.skipped) == (14, ())


def test_an_expired_certificate_gets_no_warning():
    assert due_reminder(END, steps=STEPS, now=END, recorded=set()) is None


def test_steps_parse_sorted_and_positive():
    assert parse_steps("3, 40,14") == (40, 14, 3)
    with pytest.raises(ValueError):
        parse_steps("40,0")


@pytest.mark.parametrize(
    ("period", "key"),
    [(DigestPeriod.DAILY, "2026-11-22"), (DigestPeriod.WEEKLY, "2026-W47"), (DigestPeriod.MONTHLY, "2026-11")],
)
def test_digest_period_keys(period, key):
    assert period.key(datetime(2026, 11, 22, 23, tzinfo=timezone.utc)) == key


def test_backoff_grows_with_jitter_and_gives_up():
    policy = RetryPolicy(max_attempts=4, base=timedelta(seconds=10), cap=timedelta(seconds=25))
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert policy.next_attempt(1, now, rand=lambda: 0.0) == now + timedelta(seconds=5)
    assert policy.next_attempt(1, now, rand=lambda: 1.0) == now + timedelta(seconds=10)
    assert policy.next_attempt(2, now, rand=lambda: 1.0) == now + timedelta(seconds=20)
    assert policy.next_attempt(3, now, rand=lambda: 1.0) == now + timedelta(seconds=25)  # capped
    assert policy.next_attempt(4, now) is None


def test_outcomes():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    policy = RetryPolicy(max_attempts=2)
    assert outcome_of(Sent("job:1"), attempts=1, now=now, policy=policy).status is DeliveryStatus.SENT
    assert (
        outcome_of(PermanentSendError("invalid number", code="sms_50"), attempts=1, now=now, policy=policy).status
        is DeliveryStatus.FAILED
    )
    retry = outcome_of(TransientSendError("down"), attempts=1, now=now, policy=policy)
    assert retry.status is DeliveryStatus.QUEUED and retry.next_attempt_at > now
    assert outcome_of(TransientSendError("down"), attempts=2, now=now, policy=policy).status is DeliveryStatus.DEAD

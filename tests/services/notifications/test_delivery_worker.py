"""Several delivery workers (replicas) on one delivery log: each message is attempted by one of
them and arrives once; a worker that died after claiming is overtaken when its lease runs out,
and its late answer cannot overwrite the newer attempt."""

from __future__ import annotations

import asyncio
import collections
import uuid
from datetime import datetime, timedelta, timezone

from esign.clock import Clock
from services.notifications.app import delivery_worker
from services.notifications.domain.delivery import (
    Channel,
    DeliveryStatus,
    NewDelivery,
    Outcome,
)
from tests.support.clock import SettableClock
from tests.support.notifications import Person, eventually


class Ticking(Clock):
    """A fake clock that answers the given instants in turn: time jumps as if each send hung."""

    def __init__(self, instants: list[datetime]) -> None:
        self._instants = iter(instants)

    def now(self) -> datetime:
        return next(self._instants)


def form_completed_mail(p: Person) -> NewDelivery:
    return NewDelivery(
        source_event_id=uuid.uuid4(),
        channel=Channel.EMAIL,
        recipient=p.email,
        template="form_completed",
        locale="tr",
        context={"first_name": p.first_name, "last_name": p.last_name},
        application_id=p.application_id,
        institution_id=p.institution_id,
    )


async def test_three_replicas_send_each_message_once(
    notifications_app, notifications_settings, runtime, smtp, deliveries_of
):
    people = [Person() for _ in range(60)]
    replicas = [delivery_worker(runtime, notifications_settings, clock=SettableClock()) for _ in range(3)]
    async with runtime.uow() as uow:
        await uow.deliveries.enqueue([form_completed_mail(p) for p in people])
        await uow.commit()

    async def drain(worker):
        attempted = 0
        while n := await worker.run_once():
            attempted += n
        return attempted

    # the service's own worker runs too: four replicas in all
    await asyncio.gather(*(drain(w) for w in replicas))

    async def all_sent():
        rows = [r for p in people for r in await deliveries_of(application_id=p.application_id)]
        return all(r.status == "sent" for r in rows) and rows

    rows = await eventually(all_sent)
    assert all(r.attempts == 1 for r in rows)
    received = collections.Counter(m["Message-ID"] for p in people for m in smtp.to(p.email))
    assert len(received) == len(people) and set(received.values()) == {1}


async def test_a_dead_workers_claim_is_taken_over_after_the_lease_and_its_late_answer_is_ignored(
    notifications_app, notifications_settings, runtime, smtp, deliveries_of
):
    # The claims below take every due row; start from a log where nothing else is waiting.
    await eventually(lambda: _none_queued(deliveries_of))
    p = Person()
    start = datetime.now(timezone.utc) + timedelta(days=3650)  # far ahead: the service's own worker never sees it due
    async with runtime.uow() as uow:
        await uow.deliveries.enqueue([form_completed_mail(p)], now=start)
        await uow.commit()
    lease = timedelta(seconds=notifications_settings.delivery_lease_seconds)

    async with runtime.uow() as uow:  # worker A claims it, then "dies" before sending
        [claimed] = [r for r in await uow.deliveries.claim(start, lease, 1000) if r.application_id == p.application_id]
        await uow.commit()
    assert claimed.attempts == 1

    early = delivery_worker(runtime, notifications_settings, clock=SettableClock.at(start + lease / 2))
    await early.run_once()
    assert (await deliveries_of(application_id=p.application_id))[0].attempts == 1  # still A's

    later = delivery_worker(
        runtime, notifications_settings, clock=SettableClock.at(start + lease + timedelta(seconds=1))
    )
    await later.run_once()
    [row] = await deliveries_of(application_id=p.application_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp.to(p.email)) == 1

    async with runtime.uow() as uow:  # A wakes up and reports a failure for its old attempt
        recorded = await uow.deliveries.finish(
            row.id, attempt=claimed.attempts, outcome=Outcome(DeliveryStatus.FAILED, error="late"), at=start + lease * 2
        )
        await uow.commit()
    assert recorded is False
    assert (await deliveries_of(application_id=p.application_id))[0].status == "sent"


async def _none_queued(deliveries_of):
    return not await deliveries_of(status="queued")


async def test_a_worker_slowed_down_hands_back_what_it_cannot_start_within_half_its_lease(
    notifications_app, notifications_settings, runtime, smtp, deliveries_of
):
    """The clock is a fake that jumps forward on each attempt (a hung SMTP server takes the whole
    timeout); the rows it no longer has time for go back unattempted."""
    await eventually(lambda: _none_queued(deliveries_of))
    people = [Person() for _ in range(5)]
    start = datetime.now(timezone.utc) + timedelta(days=3650)
    async with runtime.uow() as uow:
        await uow.deliveries.enqueue([form_completed_mail(p) for p in people], now=start)
        await uow.commit()
    lease = timedelta(seconds=notifications_settings.delivery_lease_seconds)
    # claim, check, (send) outcome, check, (send) outcome, check: over half the lease -> release
    t = [start + lease * f for f in (0, 0, 0.3, 0.3, 0.6, 0.6, 0.6)]
    slow = delivery_worker(runtime, notifications_settings, clock=Ticking(t))

    assert await slow.run_once() == 2
    rows = [r for p in people for r in await deliveries_of(application_id=p.application_id)]
    assert sorted((r.status, r.attempts) for r in rows) == [("queued", 0)] * 3 + [("sent", 1)] * 2
    assert all(r.next_attempt_at <= start + lease for r in rows if r.status == "queued")

"""Expiry reminders and officer digests on the real database, with the scheduler's clock set
(no sleeping until a date). Each test uses its own year of expiry dates so the
schedulers of one test never find another test's certificates due."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from esign.events import InstitutionCreated, OfficerAdded, RenewalRecorded
from services.notifications.adapters.orm import certificates, deliveries
from services.notifications.domain.reminders import DigestPeriod
from services.notifications.handlers.reminders import ReminderPolicy, ReminderScheduler
from services.notifications.handlers.sending import delivery_uuid
from tests.support.clock import SettableClock
from tests.support.events import publish
from tests.support.notifications import Person, eventually, text_part

POLICY = ReminderPolicy(
    steps=(40, 14, 3), digest_period=DigestPeriod.WEEKLY, digest_window=timedelta(days=60), default_locale="tr"
)


def scheduler(runtime, at: datetime, batch: int = 100) -> ReminderScheduler:
    """A scheduler whose clock stands at ``at``."""
    return ReminderScheduler(runtime.uow, dataclasses.replace(POLICY, batch=batch), clock=SettableClock.at(at))


async def certificate(runtime, serial: str):
    async with runtime.session_factory() as s:
        return (await s.execute(sa.select(certificates).where(certificates.c.serial == serial))).first()


async def produce(js, runtime, person: Person, not_after: datetime, serial: str | None = None):
    serial = serial or f"S-{uuid.uuid4().hex[:12]}"
    await publish(js, person.produced(serial, not_after), "applications")
    return await eventually(lambda: certificate(runtime, serial))


async def reminders_of(runtime, cert_id) -> dict[int, str]:
    async with runtime.uow() as uow:
        return await uow.certificates.reminders(cert_id)


async def expiry_deliveries(runtime, cert_id, step):
    async with runtime.session_factory() as s:
        q = sa.select(deliveries).where(deliveries.c.source_event_id == delivery_uuid("expiry", cert_id, step))
        return (await s.execute(q)).all()


async def warned_events(runtime, serials: set[str]) -> list[dict]:
    outbox = runtime.definition.tables.outbox
    async with runtime.session_factory() as s:
        rows = (
            (
                await s.execute(
                    sa.select(outbox.c.envelope).where(outbox.c.subject == "notifications.certificate.expiry_warned")
                )
            )
            .scalars()
            .all()
        )
    return [e for e in rows if e["data"]["certificate_serial"] in serials]


async def test_two_scheduler_replicas_running_together_send_each_reminder_once(
    notifications_app, notifications_js, runtime, smtp
):
    base = datetime(2031, 6, 1, 12, tzinfo=timezone.utc)
    people = [Person() for _ in range(25)]
    certs = [await produce(notifications_js, runtime, p, base + timedelta(minutes=i)) for i, p in enumerate(people)]
    now = base - timedelta(days=39)

    replicas = [scheduler(runtime, now, batch=4) for _ in range(3)]  # small batches: the replicas interleave
    runs = await asyncio.gather(*(r.run_once() for r in replicas), *(r.run_once() for r in replicas))
    assert sum(run.warned for run in runs) == len(certs)
    for cert in certs:
        assert await reminders_of(runtime, cert.id) == {40: "sent"}
        assert sorted(d.channel for d in await expiry_deliveries(runtime, cert.id, 40)) == ["email", "sms"]
    events = await warned_events(runtime, {c.serial for c in certs})
    assert sorted(e["data"]["certificate_serial"] for e in events) == sorted(c.serial for c in certs)
    assert {e["data"]["days_before"] for e in events} == {40}
    by_serial = {c.serial: c for c in certs}
    # the event id is the reminder's key: a replayed decision could never publish a second event
    assert all(
        e["id"] == str(delivery_uuid("expiry", by_serial[e["data"]["certificate_serial"]].id, 40)) for e in events
    )

    # a restarted scheduler on the same day finds nothing left to do
    assert (await scheduler(runtime, now + timedelta(hours=5)).run_once()).warned == 0

    async def warned_mail(p):
        return [m for m in smtp.to(p.email) if "40 gün" in m["Subject"]] or None

    for p in people:
        assert len(await eventually(lambda p=p: warned_mail(p))) == 1

    # the event reaches the NOTIFICATIONS stream (outbox relay), once per reminder
    async def published():
        outbox = runtime.definition.tables.outbox
        async with runtime.session_factory() as s:
            return (
                await s.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(
                        outbox.c.subject == "notifications.certificate.expiry_warned", outbox.c.published_at.is_(None)
                    )
                )
            ).scalar() == 0

    await eventually(published)


async def test_one_sweep_goes_through_every_batch_past_certificates_that_end_at_the_same_moment(
    notifications_app, notifications_js, runtime
):
    # Batches continue behind the previous one's last certificate by (not_after, id): ties on
    # not_after must neither stop the sweep nor be skipped.
    ends = datetime(2035, 3, 1, 12, tzinfo=timezone.utc)
    certs = [await produce(notifications_js, runtime, Person(), ends) for _ in range(7)]
    run = await scheduler(runtime, ends - timedelta(days=39), batch=2).run_once()
    assert run.warned == 7
    for cert in certs:
        assert await reminders_of(runtime, cert.id) == {40: "sent"}


async def test_a_scheduler_down_for_weeks_sends_the_latest_due_step_once(
    notifications_app, notifications_js, runtime, smtp
):
    not_after = datetime(2032, 3, 10, 9, tzinfo=timezone.utc)
    p = Person(locale="en")
    await publish(notifications_js, p.invitation(), "applications")
    cert = await produce(notifications_js, runtime, p, not_after)

    run = await scheduler(runtime, not_after - timedelta(days=10)).run_once()  # 40 passed, 14 due
    assert (run.warned, run.skipped) == (1, 1)
    assert await reminders_of(runtime, cert.id) == {40: "skipped", 14: "sent"}
    assert await expiry_deliveries(runtime, cert.id, 40) == []
    for day in (9, 8, 5):
        assert (await scheduler(runtime, not_after - timedelta(days=day)).run_once()).warned == 0
    assert (await scheduler(runtime, not_after - timedelta(days=2)).run_once()).warned == 1
    assert await reminders_of(runtime, cert.id) == {40: "skipped", 14: "sent", 3: "sent"}

    mails = await eventually(lambda: _at_least(2, [m for m in smtp.to(p.email) if "expires in" in m["Subject"]]))
    assert sorted(m["Subject"] for m in mails) == [
        "Your e-signature certificate expires in 14 days",
        "Your e-signature certificate expires in 3 days",
    ]
    assert "10 Mar 2032" in text_part(mails[0])


async def test_a_renewal_recorded_before_the_14_day_reminder_stops_it(notifications_app, notifications_js, runtime):
    not_after = datetime(2033, 5, 20, 12, tzinfo=timezone.utc)
    p = Person()
    old = await produce(notifications_js, runtime, p, not_after)
    assert (await scheduler(runtime, not_after - timedelta(days=39)).run_once()).warned == 1

    renewal_application = uuid.uuid4()
    await publish(
        notifications_js,
        RenewalRecorded(
            application_id=renewal_application,
            institution_id=p.institution_id,
            holder_id=p.holder_id,
            recorded_at=not_after - timedelta(days=30),
        ),
        "applications",
    )
    await eventually(lambda: _renewed(runtime, old.serial))
    for day in (13, 2):
        assert (await scheduler(runtime, not_after - timedelta(days=day)).run_once()).warned == 0
    assert await reminders_of(runtime, old.id) == {40: "sent"}

    # the renewed certificate (same holder, the renewal's application) has its own schedule
    renewed = Person(application_id=renewal_application, institution_id=p.institution_id, holder_id=p.holder_id, n=p.n)
    new = await produce(notifications_js, runtime, renewed, not_after + timedelta(days=3 * 365))
    assert new.renewal_recorded_at is None
    assert (await certificate(runtime, old.serial)).superseded_at is not None
    assert (await scheduler(runtime, new.not_after - timedelta(days=40)).run_once()).warned == 1
    assert await reminders_of(runtime, new.id) == {40: "sent"}


async def test_a_newer_certificate_for_the_holder_supersedes_the_older_one(
    notifications_app, notifications_js, runtime
):
    not_after = datetime(2034, 2, 1, tzinfo=timezone.utc)
    p = Person()
    old = await produce(notifications_js, runtime, p, not_after)
    await produce(
        notifications_js,
        runtime,
        Person(holder_id=p.holder_id, institution_id=p.institution_id),
        not_after + timedelta(days=1000),
    )
    assert (await scheduler(runtime, not_after - timedelta(days=39)).run_once()).warned == 0
    assert await reminders_of(runtime, old.id) == {}


async def test_each_officer_gets_one_digest_per_period_with_masked_contacts(
    notifications_app, notifications_js, runtime, smtp
):
    institution = uuid.uuid4()
    await publish(
        notifications_js, InstitutionCreated(institution_id=institution, name="Çukurova Üniversitesi"), "applications"
    )
    officers = [
        OfficerAdded(
            institution_id=institution,
            officer_id=uuid.uuid4(),
            full_name=name,
            email=f"{tag}{uuid.uuid4().hex[:6]}@cu.edu.tr",
        )
        for name, tag in (("Ayşe Yılmaz", "ayse"), ("Oğuz Işık", "oguz"))
    ]
    for o in officers:
        await publish(notifications_js, o, "applications")
    now = datetime(2035, 4, 2, 8, tzinfo=timezone.utc)  # a Monday
    soon = [Person(institution_id=institution, first_name=f"Personel{i}", last_name="Öztürk") for i in range(3)]
    later = Person(institution_id=institution, first_name="Sonra", last_name="Gelecek")
    for i, p in enumerate(soon):
        await produce(notifications_js, runtime, p, now + timedelta(days=20 + i))
    await produce(notifications_js, runtime, later, now + timedelta(days=90))

    async def officers_known():
        async with runtime.uow() as uow:
            return len(await uow.directory.officers_of(institution)) == 2

    await eventually(officers_known)

    runs = await asyncio.gather(
        scheduler(runtime, now).run_once(), scheduler(runtime, now + timedelta(days=2)).run_once()
    )
    assert sum(r.digests for r in runs) == 1
    assert (await scheduler(runtime, now + timedelta(days=6)).run_once()).digests == 0  # same ISO week

    for o in officers:
        [mail] = await eventually(lambda o=o: _at_least(1, [m for m in smtp.to(o.email) if "Çukurova" in m["Subject"]]))
        text = text_part(mail)
        assert f"Sayın {o.full_name}," in text
        assert all(f"{p.first_name} {p.last_name}" in text for p in soon) and "Sonra Gelecek" not in text
        assert all(p.email not in text and "k***@ornek.edu.tr" in text for p in soon)

    assert (await scheduler(runtime, now + timedelta(days=7)).run_once()).digests == 1  # next week


async def _renewed(runtime, serial):
    row = await certificate(runtime, serial)
    return row if row.renewal_recorded_at else None


async def _at_least(n, items):
    return items if len(items) >= n else None

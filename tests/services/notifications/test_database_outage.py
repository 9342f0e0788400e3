"""PostgreSQL dies (SIGKILL) just as the mail server or the SMS provider accepts a message, before
the worker could record it as sent. The worker keeps the outcome it knows and records it once the
database is back instead of sending again, sends nothing while it cannot record, and gives back the
rest of its batch at once rather than letting it wait out the lease.

The database is a PostgreSQL of this module's own (the session's one serves every other test), so
it can be killed; the lease is an hour, so only the fix, not the lease running out, can get the
rest of the batch sent."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from esign import migrations
from esign.db import make_engine, make_session_factory
from services.notifications.adapters.orm import deliveries
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.app import DEFINITION, delivery_worker
from services.notifications.config import NotificationsSettings
from services.notifications.domain.delivery import Channel, NewDelivery
from tests.support.auth import JWT_SECRET
from tests.support.clock import SettableClock
from tests.support.faults import KillablePostgres
from tests.support.notifications import SEAL_PRIVATE, Person, SmsProviderStub, SmtpServer, eventually

LEASE = timedelta(hours=1)


@pytest.fixture(scope="module")
async def killable_db(scratch_dir):
    pg = await asyncio.to_thread(KillablePostgres(scratch_dir / "pg-outage").start)
    url = await asyncio.to_thread(pg.url, "esign_notifications_outage")
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url)
    engine = make_engine(url)
    yield pg, engine
    await engine.dispose()
    await asyncio.to_thread(pg.stop)


def mail(p: Person) -> NewDelivery:
    context = {"first_name": p.first_name, "last_name": p.last_name}
    return NewDelivery(
        source_event_id=uuid.uuid4(),
        channel=Channel.EMAIL,
        recipient=p.email,
        template="form_completed",
        locale="tr",
        context=context,
        application_id=p.application_id,
    )


def sms(p: Person) -> NewDelivery:
    context = {"first_name": p.first_name, "last_name": p.last_name, "reason": "İmza eksik"}
    return NewDelivery(
        source_event_id=uuid.uuid4(),
        channel=Channel.SMS,
        recipient=p.mobile,
        template="application_rejected",
        locale="tr",
        context=context,
        application_id=p.application_id,
    )


async def one_pass(worker) -> None:
    """One pass of the worker as its PeriodicWorker runs it: an error is logged, not fatal."""
    with contextlib.suppress(Exception):
        await worker.run_once()


@pytest.mark.parametrize("channel", ["email", "sms"])
async def test_database_killed_after_the_provider_accepted_records_the_outcome_later_and_never_resends(
    killable_db, channel
):
    pg, engine = killable_db
    sessions = make_session_factory(engine)
    runtime = SimpleNamespace(uow=lambda: NotificationsUnitOfWork(sessions, DEFINITION.tables, "notifications"))
    killed: list[bool] = []

    def kill_once(_message) -> None:  # the provider has the message; the database dies before the 250/00
        if not killed:
            killed.append(True)
            pg.kill9()

    smtp = SmtpServer(on_message=kill_once).start()
    provider = SmsProviderStub(on_accept=kill_once)
    await provider.start()
    settings = NotificationsSettings(
        seal_private_key=SEAL_PRIVATE,
        jwt_secret=JWT_SECRET,
        smtp_port=smtp.port,
        smtp_timeout=5,
        sms_provider="http",
        sms_http_url=provider.url,
        delivery_lease_seconds=LEASE.total_seconds(),
        delivery_batch=20,
    )
    people = [Person() for _ in range(5)]
    async with runtime.uow() as uow:
        await uow.deliveries.enqueue([mail(p) if channel == "email" else sms(p) for p in people])
        await uow.commit()

    def received() -> collections.Counter:
        if channel == "email":
            return collections.Counter(m["Message-ID"] for m in smtp.messages)
        return collections.Counter(r["body"]["reference"] for r in provider.received)

    try:
        worker = delivery_worker(runtime, settings, clock=SettableClock())
        await one_pass(worker)
        assert killed and sum(received().values()) == 1, "the database died with the first message accepted"
        await one_pass(worker)  # the database is still down: nothing is sent that could not be recorded
        assert sum(received().values()) == 1

        await asyncio.to_thread(pg.restart)

        async def all_sent():
            await one_pass(worker)
            async with engine.connect() as conn:
                rows = (await conn.execute(sa.select(deliveries).where(deliveries.c.channel == channel))).all()
            return all(r.status == "sent" for r in rows) and rows

        rows = await eventually(all_sent, timeout=60)
        # Long after the lease, another replica finds nothing to send again.
        long_after = SettableClock()
        long_after.offset = 2 * LEASE
        later = delivery_worker(runtime, settings, clock=long_after)
        await later.run_once()
    finally:
        smtp.stop()
        await provider.stop()
        async with engine.begin() as conn:
            await conn.execute(sa.delete(deliveries))

    copies = received()
    assert len(copies) == len(people) and set(copies.values()) == {1}, copies
    assert all(r.attempts == 1 for r in rows)  # the given-back rows kept their attempt count
    if channel == "email":  # the kept outcome is the server's answer to the first message, not a blank
        assert {r.provider_ref.split()[0] for r in rows} == set(copies)

"""A consumer outlives a PostgreSQL outage longer than its whole retry schedule: the events consumed
meanwhile are neither counted as failed nor dead-lettered, and each is applied exactly once when the
database is back. A handler's own failure with the database up still counts (and dead-letters).

Real parts: a PostgreSQL of this module's own, killed with SIGKILL and restarted on its data (the
session's one serves every other test), and the session's nats-server. The retry schedule and the
outage back-off are shortened through settings, so that an outage of a few seconds outlasts both.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from typing import ClassVar

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.dialects.postgresql import UUID

from esign.consumer import ConsumerRunner, ConsumerSpec, Takes
from esign.db import make_engine, make_session_factory
from esign.events import EVENT_SCHEMAS, EventData, EventMeta, event
from esign.jetstream import ensure_stream, stream_name
from esign.messaging_tables import define_messaging_tables
from esign.outbox import OutboxRelay
from esign.settings import ServiceSettings
from esign.uow import UnitOfWork
from tests.support.faults import KillablePostgres
from tests.support.notifications import eventually

metadata = sa.MetaData()
tables = define_messaging_tables(metadata)
effects = sa.Table(
    "outage_effects",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
)

# Two deliveries, 0.1 s apart, before a dead letter; an ack wait of one second: an outage of a few
# seconds outlasts all of it several times over.
SETTINGS = ServiceSettings(consumer_max_deliver=2, consumer_ack_wait=1.0, consumer_outage_max_delay=0.2)


class OutageThing(EventData):
    type: ClassVar[str] = "unused"
    n: int


@pytest.fixture(scope="module")
async def killable(scratch_dir):
    pg = await asyncio.to_thread(KillablePostgres(scratch_dir / "pg-consumer-outage").start)
    url = await asyncio.to_thread(pg.url, "esign_consumer_outage")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield pg, make_session_factory(engine)
    await engine.dispose()
    await asyncio.to_thread(pg.stop)


@pytest.fixture
def producer():
    name = f"o{uuid.uuid4().hex[:10]}"
    subject = f"{name}.thing.happened"
    thing = type(f"Thing_{name}", (OutageThing,), {"__annotations__": {}, "type": subject})
    event(thing)
    yield name, thing
    EVENT_SCHEMAS.pop((subject, 1), None)


def runner_for(spec: ConsumerSpec, js, sessions) -> ConsumerRunner:
    """As esign.service builds it, from the settings."""
    return ConsumerRunner(
        spec,
        js,
        lambda: UnitOfWork(sessions, tables, spec.producer),
        tables,
        max_deliver=SETTINGS.consumer_max_deliver,
        ack_wait=SETTINGS.consumer_ack_wait,
        outage_max_delay=SETTINGS.consumer_outage_max_delay,
    )


async def publish(js, sessions, producer: str, count: int) -> list[uuid.UUID]:
    await ensure_stream(js, producer)
    event_class = EVENT_SCHEMAS[(f"{producer}.thing.happened", 1)]
    async with UnitOfWork(sessions, tables, producer) as uow:
        ids = [uow.emit(event_class(n=i)).id for i in range(count)]
        await uow.commit()
    await OutboxRelay(sessions, tables, js, producer).publish_pending()
    return ids


async def record(thing: OutageThing, uow: UnitOfWork, *, meta: EventMeta) -> None:
    await uow.session.execute(sa.insert(effects).values(event_id=meta.id))


async def effects_of(sessions, ids) -> dict[uuid.UUID, int]:
    async with sessions() as s:
        rows = await s.execute(
            sa.select(effects.c.event_id, sa.func.count())
            .where(effects.c.event_id.in_(ids))
            .group_by(effects.c.event_id)
        )
    return dict(rows.all())


async def dead_letters(sessions, consumer: str) -> list:
    dl = tables.dead_letters
    async with sessions() as s:
        return (await s.execute(sa.select(dl).where(dl.c.consumer == consumer))).all()


async def restart(pg, sessions) -> None:
    """Starts the killed server again and waits until it answers. On a loaded machine pg_ctl may
    stop waiting for the crash recovery before it ends; the server goes on starting regardless."""
    try:
        await asyncio.to_thread(pg.restart)
    except subprocess.TimeoutExpired:
        pass

    async def answers() -> bool:
        try:
            async with sessions() as s:
                await s.execute(sa.text("SELECT 1"))
        except Exception:  # noqa: BLE001 - still starting
            return False
        return True

    await eventually(answers, timeout=120, interval=0.2)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_an_outage_longer_than_every_retry_dead_letters_nothing_and_applies_each_event_once(
    nc, killable, producer
):
    producer, thing = producer
    pg, sessions = killable
    js = nc.jetstream()
    ids = await publish(js, sessions, producer, 5)
    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(thing, record)], backoff=[0.1])
    runner = runner_for(spec, js, sessions)
    worker = f"consumer {spec.name}"

    await asyncio.to_thread(pg.kill9)
    task = asyncio.create_task(runner.run())
    try:
        # Forty rounds of waiting at up to 0.2 s: well past two deliveries 0.1 s apart, and past
        # several one-second ack waits, had the messages not been kept in progress.
        async def waited_long() -> bool:
            return sample("esign_database_outage_waits_total", worker=worker) >= 40

        await eventually(waited_long, timeout=120)
        assert sample("esign_events_handled_total", consumer=spec.name, outcome="retry") == 0
        await restart(pg, sessions)

        async def all_applied():
            return len(await effects_of(sessions, ids)) == len(ids)

        await eventually(all_applied, timeout=60)

        async def all_acked():
            info = await js.consumer_info(stream_name(producer), spec.name)
            return info if info.num_ack_pending == 0 and info.num_pending == 0 else None

        info = await eventually(all_acked, timeout=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert await effects_of(sessions, ids) == {i: 1 for i in ids}
    assert await dead_letters(sessions, spec.name) == []
    assert sample("esign_events_handled_total", consumer=spec.name, outcome="retry") == 0
    assert sample("esign_events_handled_total", consumer=spec.name, outcome="dead") == 0
    # Held in progress through the outage: JetStream delivered each message once.
    assert info.delivered.stream_seq == len(ids) and info.delivered.consumer_seq == len(ids)


async def test_a_handlers_connection_error_with_the_database_up_still_counts(nc, killable, producer):
    producer, thing = producer
    """An OSError of the handler's own (a provider refusing, say) while the database answers is
    the event's failure: retried, then dead-lettered, as before."""
    pg, sessions = killable
    await restart(pg, sessions)  # whatever state an earlier test left it in: up
    js = nc.jetstream()
    [event_id] = await publish(js, sessions, producer, 1)

    async def provider_refuses(event, uow, *, meta):
        raise ConnectionRefusedError("the provider refused")

    spec = ConsumerSpec(
        name=f"{producer}-c",
        producer=producer,
        handlers=[Takes(thing, provider_refuses)],
        backoff=[0.1],
    )
    task = asyncio.create_task(runner_for(spec, js, sessions).run())
    try:
        [dead] = await eventually(lambda: dead_letters(sessions, spec.name), timeout=60)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert dead.event_id == event_id and dead.deliveries == SETTINGS.consumer_max_deliver
    assert "ConnectionRefusedError" in dead.error

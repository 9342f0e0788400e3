"""Outbox -> JetStream -> consumer on a real PostgreSQL and a real NATS server, including the
crash points: a relay that dies after publishing but before marking, a consumer that dies after
its effect but before acking, handlers that fail, and messages nobody can read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from esign.consumer import ConsumerRunner, ConsumerSpec, PayloadRemoved, Takes
from esign.db import make_engine, make_session_factory
from esign.events import EVENT_SCHEMAS, Envelope, EventData, EventMeta, event
from esign.jetstream import ensure_stream, stream_name
from esign.messaging_tables import define_messaging_tables
from esign.outbox import OutboxRelay
from esign.retention import MessagingRetention
from esign.uow import UnitOfWork
from tests.support.clock import SettableClock

metadata = sa.MetaData()
tables = define_messaging_tables(metadata)
effects = sa.Table(
    "effects",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)


class ThingHappened(EventData):
    """Each test defines a subclass under its own producer's subject (see ``test_events``)."""

    type: ClassVar[str] = "unused"
    n: int


@pytest.fixture(scope="module")
async def session_factory(postgres):
    url = postgres.ensure_database("esign_messaging_test")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def producer(nc, session_factory) -> AsyncIterator[str]:
    """A fresh producer name per test: its own stream, its own outbox rows."""
    name = f"t{uuid.uuid4().hex[:10]}"
    # Each test's events get subjects under its own producer name.
    yield name
    async with session_factory() as s, s.begin():
        await s.execute(sa.delete(tables.outbox))


def uow_factory(session_factory, producer):
    return lambda: UnitOfWork(session_factory, tables, producer)


async def write_events(session_factory, producer: str, count: int) -> list[uuid.UUID]:
    event_class = EVENT_SCHEMAS[(f"{producer}.thing.happened", 1)]
    async with uow_factory(session_factory, producer)() as uow:
        ids = [uow.emit(event_class(n=i)).id for i in range(count)]
        await uow.commit()
    return ids


class FlakyJetStream:
    """Forwards publishes to the real JetStream, then reports the k-th one as failed: the message
    IS in the stream but the relay believes it is not (a crash or lost ack after publish)."""

    def __init__(self, js, fail_after: int) -> None:
        self._js, self._left = js, fail_after

    async def publish_async(self, subject, payload, headers=None):
        ack = await self._js.publish_async(subject, payload, headers=headers)
        self._left -= 1
        if self._left == 0:
            await ack  # it is in the stream...
            raise ConnectionError("connection lost after publish")  # ...but the relay hears otherwise
        return ack


async def stream_count(js, producer: str) -> int:
    return (await js.stream_info(stream_name(producer))).state.messages


async def count_effects(session_factory) -> dict[uuid.UUID, int]:
    async with session_factory() as s:
        rows = (await s.execute(sa.select(effects.c.event_id, sa.func.count()).group_by(effects.c.event_id))).all()
    return dict(rows)


async def record_effect(thing: ThingHappened, uow: UnitOfWork, *, meta: EventMeta) -> None:
    await uow.session.execute(sa.insert(effects).values(event_id=meta.id, n=thing.n))


@pytest.fixture
def test_events(producer) -> Iterator[type[ThingHappened]]:
    """Registers this test's event schema under its producer's subject; returns its class."""
    subject = f"{producer}.thing.happened"
    thing = type(f"Thing_{producer}", (ThingHappened,), {"__annotations__": {}, "type": subject})
    event(thing)
    yield thing
    EVENT_SCHEMAS.pop((subject, 1), None)


async def consume_until(runner: ConsumerRunner, producer: str, done, timeout: float = 20) -> None:
    """Runs the consumer until ``done()`` (an async check) holds; no fixed sleeps, so a loaded
    machine only makes it slower, not wrong."""
    sub = await runner._js.pull_subscribe_bind(durable=runner.spec.name, stream=stream_name(producer))
    try:
        async with asyncio.timeout(timeout):
            while not await done():
                await runner.poll(sub, timeout=0.5)
    finally:
        await sub.unsubscribe()


async def dead_letters_of(session_factory, consumer: str):
    async with session_factory() as s:
        return (await s.execute(sa.select(tables.dead_letters).where(tables.dead_letters.c.consumer == consumer))).all()


async def test_events_reach_the_consumer_once(nc, session_factory, producer, test_events):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    ids = await write_events(session_factory, producer, 25)
    relay = OutboxRelay(session_factory, tables, js, producer, batch_size=10)
    while await relay.publish_pending() > 0:
        pass
    assert await stream_count(js, producer) == 25

    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, record_effect)])
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables)
    await runner.ensure_consumer()

    async def all_applied() -> bool:
        return set(ids) <= set(await count_effects(session_factory))

    await consume_until(runner, producer, all_applied)
    done = await count_effects(session_factory)
    assert {i: done.get(i) for i in ids} == {i: 1 for i in ids}


async def test_relay_dying_after_publish_duplicates_nothing(nc, session_factory, producer, test_events):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    await write_events(session_factory, producer, 10)
    crashed = OutboxRelay(session_factory, tables, FlakyJetStream(js, fail_after=4), producer, batch_size=10)
    assert await crashed.publish_pending() == -1  # 3 marked, the 4th published but unmarked
    async with session_factory() as s:
        unmarked = (
            await s.execute(
                sa.select(sa.func.count()).select_from(tables.outbox).where(tables.outbox.c.published_at.is_(None))
            )
        ).scalar_one()
    assert unmarked == 7
    relay = OutboxRelay(session_factory, tables, js, producer, batch_size=10)
    assert await relay.publish_pending() == 7  # the 4th goes again with the same Nats-Msg-Id...
    assert await stream_count(js, producer) == 10  # ...and JetStream drops the copy


async def test_concurrent_relays_publish_each_event_once(nc, session_factory, producer, test_events):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    await write_events(session_factory, producer, 60)
    relays = [OutboxRelay(session_factory, tables, js, producer, batch_size=7) for _ in range(3)]

    async def run(relay):
        while await relay.publish_pending() > 0:
            pass

    await asyncio.gather(*(run(r) for r in relays))
    assert await stream_count(js, producer) == 60
    async with session_factory() as s:
        left = (
            await s.execute(
                sa.select(sa.func.count()).select_from(tables.outbox).where(tables.outbox.c.published_at.is_(None))
            )
        ).scalar_one()
    assert left == 0


async def test_consumer_dying_before_ack_has_no_second_effect(nc, session_factory, producer, test_events):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    [event_id] = await write_events(session_factory, producer, 1)
    await OutboxRelay(session_factory, tables, js, producer).publish_pending()
    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, record_effect)])
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables, ack_wait=1.0)
    await runner.ensure_consumer()
    sub = await js.pull_subscribe_bind(durable=spec.name, stream=stream_name(producer))
    [msg] = await sub.fetch(1, timeout=2)
    # The effect commits, then the process "dies": no ack is ever sent for this delivery.
    assert await runner.apply(spec.read(msg.data)) is True
    [again] = await sub.fetch(1, timeout=5)  # redelivered after ack_wait
    assert again.metadata.num_delivered == 2
    await runner.handle(again)
    assert (await count_effects(session_factory))[event_id] == 1
    await sub.unsubscribe()


async def test_failing_handler_is_retried_then_dead_lettered_and_replayable(nc, session_factory, producer, test_events):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    [event_id] = await write_events(session_factory, producer, 1)
    await OutboxRelay(session_factory, tables, js, producer).publish_pending()
    broken = {"on": True}

    async def flaky(thing, uow, *, meta):
        await record_effect(thing, uow, meta=meta)  # written, then rolled back when we fail below
        if broken["on"]:
            raise RuntimeError("downstream is down")

    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, flaky)], backoff=[0.1])
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables, max_deliver=3)
    await runner.ensure_consumer()

    async def dead_lettered() -> bool:
        return bool(await dead_letters_of(session_factory, spec.name))

    await consume_until(runner, producer, dead_lettered)
    assert event_id not in await count_effects(session_factory)
    [dead] = await dead_letters_of(session_factory, spec.name)
    assert dead.event_id == event_id and dead.deliveries == 3 and "downstream is down" in dead.error

    broken["on"] = False  # the operator fixed the cause
    assert await runner.replay(dead.id) is True
    assert (await count_effects(session_factory))[event_id] == 1
    assert await runner.replay(dead.id) is False  # replaying twice has no second effect

    # Past its retention period the message goes; the letter stays and can no longer be replayed.
    month_later = SettableClock.at(datetime.now(UTC) + timedelta(days=31))
    retention = MessagingRetention(
        session_factory,
        tables,
        producer,
        outbox_keep=timedelta(days=7),
        processed_keep=timedelta(days=60),
        dead_letters_keep=timedelta(days=30),
        clock=month_later,
    )
    await retention.prune()
    [letter] = await dead_letters_of(session_factory, spec.name)
    assert letter.payload == b"" and letter.event_id == event_id and "downstream is down" in letter.error
    with pytest.raises(PayloadRemoved):
        await runner.replay(dead.id)


async def test_unreadable_message_is_dead_lettered_at_once(nc, session_factory, producer, test_events):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    await js.publish(test_events.type, b"{not json", headers={"Nats-Msg-Id": "garbage-1"})
    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, record_effect)])
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables)
    await runner.ensure_consumer()

    async def dead_lettered() -> bool:
        return bool(await dead_letters_of(session_factory, spec.name))

    await consume_until(runner, producer, dead_lettered)
    rows = await dead_letters_of(session_factory, spec.name)
    assert len(rows) == 1 and rows[0].deliveries == 1 and rows[0].event_id is None


async def test_one_bad_event_in_a_fetched_batch_costs_the_others_nothing(nc, session_factory, producer, test_events):
    """The messages of a fetch are applied in one transaction; when one of them fails, that
    transaction is rolled back and each goes its own way: the good ones applied exactly once,
    the bad one retried and dead-lettered, nothing of the failed batch attempt left behind."""
    js = nc.jetstream()
    await ensure_stream(js, producer)
    ids = await write_events(session_factory, producer, 8)
    await OutboxRelay(session_factory, tables, js, producer).publish_pending()
    poison = ids[3]
    batches: list[int] = []

    async def fails_on_poison(thing, uow, *, meta):
        await record_effect(thing, uow, meta=meta)
        if meta.id == poison:
            raise RuntimeError("cannot apply this one")

    spec = ConsumerSpec(
        name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, fails_on_poison)], backoff=[0.1]
    )
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables, max_deliver=2, batch=8)
    batch_path = runner.apply_batch

    async def counting_batches(msgs):
        batches.append(len(msgs))
        return await batch_path(msgs)

    runner.apply_batch = counting_batches
    await runner.ensure_consumer()

    async def settled() -> bool:
        return bool(await dead_letters_of(session_factory, spec.name))

    await consume_until(runner, producer, settled)
    done = await count_effects(session_factory)
    assert {i: done.get(i) for i in ids if i != poison} == {i: 1 for i in ids if i != poison}
    assert poison not in done
    [dead] = await dead_letters_of(session_factory, spec.name)
    assert dead.event_id == poison
    assert batches and batches[0] > 1  # the batch path was taken, and split


# ---------------------------------------------------------------- events in, typed


async def publish_envelope(js, envelope: Envelope) -> None:
    """Puts an envelope on the stream as a producer would, whatever its data (to try bad ones)."""
    await js.publish(envelope.type, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": str(envelope.id)})


def crafted(thing_class: type[ThingHappened], *, data: dict, version: int = 1) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        type=thing_class.type,
        version=version,
        time=datetime.now(UTC),
        producer=thing_class.type.split(".")[0],
        data=data,
    )


async def nothing_pending(js, producer: str, consumer: str) -> bool:
    info = await js.consumer_info(stream_name(producer), consumer)
    return info.num_pending == 0 and info.num_ack_pending == 0


@pytest.mark.parametrize("count", [1, 3], ids=["one by one", "a fetched batch"])
async def test_the_handler_gets_the_typed_event_and_its_envelope_metadata(
    nc, session_factory, producer, test_events, count
):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    ids = await write_events(session_factory, producer, count)
    await OutboxRelay(session_factory, tables, js, producer).publish_pending()
    received: list[tuple[object, EventMeta]] = []

    async def remember(thing, uow, *, meta):
        received.append((thing, meta))

    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, remember)])
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables, batch=count)
    await runner.ensure_consumer()

    async def all_received() -> bool:
        return len(received) >= count

    await consume_until(runner, producer, all_received)
    assert [meta.id for _, meta in received] == ids
    for n, (thing, meta) in enumerate(received):
        assert type(thing) is test_events and thing.n == n  # the declared class, not a dict
        assert (meta.type, meta.version, meta.producer) == (test_events.type, 1, producer)
        assert meta.time.tzinfo is not None


async def test_data_that_does_not_fit_its_class_is_dead_lettered_at_once_and_never_handled(
    nc, session_factory, producer, test_events
):
    """In the same fetch as a good event: the batch fails, the good one is applied on its own, the
    bad one goes to the dead letters on its first delivery (no retries) and no handler sees it.
    What the operator reads names the field and the reason, not the value (personal data)."""
    js = nc.jetstream()
    await ensure_stream(js, producer)
    [good] = await write_events(session_factory, producer, 1)
    await OutboxRelay(session_factory, tables, js, producer).publish_pending()
    bad = crafted(test_events, data={"n": "1990-04-23"})
    await publish_envelope(js, bad)
    handled: list[uuid.UUID] = []

    async def counting(thing, uow, *, meta):
        handled.append(meta.id)
        await record_effect(thing, uow, meta=meta)

    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, counting)], backoff=[0.1])
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables, max_deliver=4, batch=2)
    await runner.ensure_consumer()

    async def settled() -> bool:
        return bool(await dead_letters_of(session_factory, spec.name)) and good in handled

    await consume_until(runner, producer, settled)
    [dead] = await dead_letters_of(session_factory, spec.name)
    assert dead.event_id == bad.id and dead.deliveries == 1
    assert "n: int_parsing" in dead.error and "1990-04-23" not in dead.error
    assert bad.id not in handled and (await count_effects(session_factory)).get(good) == 1
    assert await nothing_pending(js, producer, spec.name)  # acked: it will not come back


async def test_a_version_nobody_declared_is_dead_lettered_at_once(nc, session_factory, producer, test_events):
    js = nc.jetstream()
    await ensure_stream(js, producer)
    newer = crafted(test_events, data={"n": 1}, version=2)
    await publish_envelope(js, newer)
    handled: list[uuid.UUID] = []

    async def counting(thing, uow, *, meta):
        handled.append(meta.id)

    spec = ConsumerSpec(name=f"{producer}-c", producer=producer, handlers=[Takes(test_events, counting)])
    runner = ConsumerRunner(spec, js, uow_factory(session_factory, producer), tables)
    await runner.ensure_consumer()

    async def dead_lettered() -> bool:
        return bool(await dead_letters_of(session_factory, spec.name))

    await consume_until(runner, producer, dead_lettered)
    [dead] = await dead_letters_of(session_factory, spec.name)
    assert dead.event_id == newer.id and dead.deliveries == 1
    assert dead.error == f"unreadable event: no handler for {test_events.type} v2"
    assert handled == []


def test_a_consumer_takes_each_event_class_once(test_events):
    async def one(thing, uow, *, meta): ...

    async def other(thing, uow, *, meta): ...

    with pytest.raises(ValueError, match="two handlers"):
        ConsumerSpec(name="c", producer="p", handlers=[Takes(test_events, one), Takes(test_events, other)])
    spec = ConsumerSpec(name="c", producer="p", handlers=[Takes(test_events, one)])
    assert spec.subjects == [test_events.type]

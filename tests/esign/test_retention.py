"""Pruning the messaging tables on a real PostgreSQL: what is past its period goes, what is not
(or not yet published) stays, one replica has the turn at a time, and passes at the same moment
neither fail nor leave rows behind."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from esign.clock import Clock
from esign.db import make_engine, make_session_factory
from esign.messaging_tables import define_messaging_tables
from esign.retention import MessagingRetention, take_turn

metadata = sa.MetaData()
tables = define_messaging_tables(metadata)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class FixedClock(Clock):
    def now(self) -> datetime:
        return NOW


@pytest.fixture
async def session_factory(postgres):
    engine = make_engine(postgres.ensure_database("esign_retention_test"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


def retention(session_factory, batch_size: int = 1000) -> MessagingRetention:
    return MessagingRetention(
        session_factory,
        tables,
        "test",
        outbox_keep=timedelta(days=7),
        processed_keep=timedelta(days=30),
        clock=FixedClock(),
        batch_size=batch_size,
    )


async def seed(session_factory, outbox: list[tuple[datetime, datetime | None]], processed: list[datetime]) -> None:
    async with session_factory() as s, s.begin():
        if outbox:
            await s.execute(
                sa.insert(tables.outbox),
                [
                    {"id": uuid.uuid4(), "subject": "t.x", "envelope": {}, "created_at": c, "published_at": p}
                    for c, p in outbox
                ],
            )
        if processed:
            await s.execute(
                sa.insert(tables.processed_events),
                [{"consumer": "c", "event_id": uuid.uuid4(), "processed_at": at} for at in processed],
            )


async def remaining(session_factory) -> tuple[list, list]:
    async with session_factory() as s:
        outbox = (await s.execute(sa.select(tables.outbox.c.published_at).order_by("created_at"))).scalars().all()
        processed = (await s.execute(sa.select(tables.processed_events.c.processed_at))).scalars().all()
    return list(outbox), sorted(processed)


async def test_published_outbox_rows_and_processed_events_past_their_period_go(session_factory):
    old, recent = NOW - timedelta(days=8), NOW - timedelta(days=6)
    await seed(
        session_factory,
        # published long ago, published recently, never published (however old: it must still go out)
        outbox=[(old, old), (recent, recent), (old - timedelta(days=30), None)],
        processed=[NOW - timedelta(days=31), NOW - timedelta(days=29)],
    )
    await retention(session_factory).prune()
    outbox, processed = await remaining(session_factory)
    assert outbox == [None, recent]
    assert processed == [NOW - timedelta(days=29)]


async def test_a_backlog_goes_in_bounded_batches_and_the_worker_is_told_to_go_again(session_factory):
    old = NOW - timedelta(days=10)
    await seed(session_factory, outbox=[(old, old)] * 5, processed=[])
    worker = retention(session_factory, batch_size=2)
    assert await worker.prune() == 2  # full batch: go again
    assert await worker.prune() == 2
    assert await worker.prune() == 0  # last, partial batch: wait for the next interval
    assert (await remaining(session_factory))[0] == []


async def test_while_one_replica_has_the_turn_another_skips_its_pass(session_factory):
    old = NOW - timedelta(days=10)
    await seed(session_factory, outbox=[(old, old)], processed=[])
    async with session_factory() as other_replica, other_replica.begin():
        assert await take_turn(other_replica, "test.messaging-retention")
        assert await retention(session_factory).prune() == 0
        assert len((await remaining(session_factory))[0]) == 1
    # The turn ends with the other replica's transaction.
    await retention(session_factory).prune()
    assert (await remaining(session_factory))[0] == []


async def test_concurrent_passes_neither_fail_nor_leave_rows_behind(session_factory):
    old = NOW - timedelta(days=10)
    await seed(session_factory, outbox=[(old, old)] * 50, processed=[NOW - timedelta(days=40)] * 50)
    await asyncio.gather(*(retention(session_factory).prune() for _ in range(4)))
    assert await remaining(session_factory) == ([], [])


def test_periods_shorter_than_the_duplicate_window_are_refused():
    with pytest.raises(ValueError, match="duplicate window"):
        MessagingRetention(
            None, tables, "test", outbox_keep=timedelta(minutes=5), processed_keep=timedelta(days=1), clock=FixedClock()
        )

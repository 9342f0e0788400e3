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
from esign.messaging_tables import PAYLOAD_REMOVED, define_messaging_tables
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


async def seed_dead_letters(session_factory, created: list[tuple[datetime, datetime | None]]) -> None:
    async with session_factory() as s, s.begin():
        await s.execute(
            sa.insert(tables.dead_letters),
            [
                {
                    "id": uuid.uuid4(),
                    "consumer": "c",
                    "subject": "t.x",
                    "event_id": uuid.uuid4(),
                    "payload": b'{"data": {"email": "ayse@ornek.edu.tr"}}',
                    "error": "RuntimeError: down",
                    "deliveries": 6,
                    "created_at": at,
                    "replayed_at": replayed,
                }
                for at, replayed in created
            ],
        )


async def dead_letters(session_factory) -> list[tuple[datetime, bytes, str]]:
    dl = tables.dead_letters
    async with session_factory() as s:
        rows = await s.execute(sa.select(dl.c.created_at, dl.c.payload, dl.c.error).order_by(dl.c.created_at))
    return [tuple(row) for row in rows]


async def test_dead_letters_past_their_period_lose_their_payload_and_keep_what_failed_and_when(session_factory):
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=29)
    # old and never replayed, old and replayed, recent
    await seed_dead_letters(session_factory, [(old, None), (old + timedelta(hours=1), old), (recent, None)])
    worker = retention(session_factory)
    await worker.prune()
    letters = await dead_letters(session_factory)
    assert [(at, payload) for at, payload, _ in letters] == [
        (old, PAYLOAD_REMOVED),
        (old + timedelta(hours=1), PAYLOAD_REMOVED),
        (recent, b'{"data": {"email": "ayse@ornek.edu.tr"}}'),
    ]
    assert all(error == "RuntimeError: down" for _, _, error in letters)  # the row still says what failed
    assert await worker.prune() == 0 and await dead_letters(session_factory) == letters  # nothing twice


async def test_dead_letters_go_in_bounded_batches_and_concurrent_passes_handle_each_once(session_factory):
    old = NOW - timedelta(days=40)
    await seed_dead_letters(session_factory, [(old + timedelta(minutes=i), None) for i in range(5)])
    assert await retention(session_factory, batch_size=2).prune() == 2  # full batch: go again
    await asyncio.gather(*(retention(session_factory, batch_size=2).prune() for _ in range(4)))
    await asyncio.gather(*(retention(session_factory, batch_size=2).prune() for _ in range(4)))
    assert {payload for _, payload, _ in await dead_letters(session_factory)} == {PAYLOAD_REMOVED}

"""esign.rate_limit.hit counts in one autocommit statement of its own: the count is visible to
every replica at once and the counter row is not left locked while the request goes on (inside
BEGIN .. COMMIT every request from one address queued on that row's lock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from esign.db import make_engine
from esign.rate_limit import RateLimit, define_rate_limit_table, hit

metadata = sa.MetaData()
windows = define_rate_limit_table(metadata)
RULE = RateLimit(limit=2, window_seconds=60)


@pytest.fixture(scope="module")
async def engine(postgres):
    engine = make_engine(postgres.ensure_database("esign_rate_limit_test"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def hits_seen_elsewhere(engine, bucket: str) -> int:
    async with engine.begin() as other:
        # NOWAIT: a lock still held by the counting connection fails this at once instead of waiting.
        row = (
            await other.execute(
                sa.select(windows.c.hits).where(windows.c.bucket == bucket).with_for_update(nowait=True)
            )
        ).first()
        return row.hits if row else 0


async def test_a_hit_is_counted_and_unlocked_at_once_and_past_the_limit_refused(engine):
    now = datetime(2026, 12, 2, 3, 0, 30, tzinfo=UTC)
    async with engine.begin() as request_transaction:
        # The request's own transaction goes on (and here fails): the count is not part of it.
        await request_transaction.execute(sa.select(1))
        assert (await hit(engine, "query:203.0.113.9", RULE, now)).allowed
        assert await hits_seen_elsewhere(engine, "query:203.0.113.9") == 1
        await hit(engine, "query:203.0.113.9", RULE, now)
        refused = await hit(engine, "query:203.0.113.9", RULE, now)
        await request_transaction.rollback()  # a request that fails after counting still counts
    assert not refused.allowed and refused.hits == 3 and refused.retry_after_seconds == 30
    assert await hits_seen_elsewhere(engine, "query:203.0.113.9") == 3
    # Another bucket, and the same one in the next window, start again.
    assert (await hit(engine, "query:198.51.100.7", RULE, now)).hits == 1
    assert (await hit(engine, "query:203.0.113.9", RULE, datetime(2026, 12, 2, 3, 1, 0, tzinfo=UTC))).hits == 1

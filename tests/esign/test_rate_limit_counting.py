"""esign.rate_limit.RateLimitRepository.hit counts in one autocommit statement: the count is
visible to every replica at once and the counter row is not left locked while the request goes
on (inside BEGIN .. COMMIT every request from one address queued on that row's lock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from esign.db import make_engine, make_session_factory
from esign.rate_limit import RateLimit, RateLimitRepository, define_rate_limit_table

metadata = sa.MetaData()
windows = define_rate_limit_table(metadata)
RULE = RateLimit(limit=2, window_seconds=60)


@pytest.fixture(scope="module")
async def sessions(postgres):
    engine = make_engine(postgres.ensure_database("esign_rate_limit_test"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


async def hits_seen_elsewhere(sessions, bucket: str) -> int:
    async with sessions() as other, other.begin():
        # NOWAIT: a lock still held by the counting session fails this at once instead of waiting.
        row = (
            await other.execute(
                sa.select(windows.c.hits).where(windows.c.bucket == bucket).with_for_update(nowait=True)
            )
        ).first()
        return row.hits if row else 0


async def test_a_hit_is_counted_and_unlocked_before_its_unit_of_work_ends(sessions):
    now = datetime(2026, 12, 2, 3, 0, 30, tzinfo=UTC)
    session: AsyncSession = sessions()
    async with session:
        await session.begin()
        counting = RateLimitRepository(session, windows)
        assert (await counting.hit("query:203.0.113.9", RULE, now)).allowed
        assert await hits_seen_elsewhere(sessions, "query:203.0.113.9") == 1
        await counting.hit("query:203.0.113.9", RULE, now)
        refused = await counting.hit("query:203.0.113.9", RULE, now)
        await session.rollback()  # a request that fails after counting still counts
    assert not refused.allowed and refused.hits == 3 and refused.retry_after_seconds == 30
    assert await hits_seen_elsewhere(sessions, "query:203.0.113.9") == 3

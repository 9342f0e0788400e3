"""How a service process is set up for load, checked on real parts.

Its two connection pools keep what they opened (DB_POOL_SIZE), so a busy replica does not open
and close PostgreSQL connections for each burst: each costs the server a new backend process and
the client its set-up, more than the read it is for. Counted by PostgreSQL itself
(``pg_stat_database.sessions``: connections established to the database). And what start-up
made is frozen out of the garbage collector's full passes."""

from __future__ import annotations

import asyncio
import gc

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from esign.db import make_engine
from services.tracking.app import create_app
from services.tracking.config import TrackingSettings
from tests.support.auth import JWT_SECRET
from tests.support.services import running

CONCURRENT = 6


@pytest.fixture(scope="module")
def url(postgres):
    return postgres.ensure_database("esign_connection_pools_test")


async def sessions_opened(url: str) -> int:
    observer = make_engine(url, poolclass=sa.NullPool)
    try:
        async with observer.connect() as conn:
            await conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            return (
                await conn.execute(sa.text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()"))
            ).scalar_one()
    finally:
        await observer.dispose()


async def bursts(engine: AsyncEngine, *, rounds: int) -> None:
    """``rounds`` times, CONCURRENT reads at once holding their connections together."""

    async def read() -> None:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT pg_sleep(0.02)"))

    for _ in range(rounds):
        await asyncio.gather(*(read() for _ in range(CONCURRENT)))


async def opened_by(url: str, engine: AsyncEngine, *, rounds: int) -> int:
    before = await sessions_opened(url)
    try:
        await bursts(engine, rounds=rounds)
    finally:
        await engine.dispose()
    # The statistics reach pg_stat_database when a backend reports them; wait for the count to settle.
    for _ in range(50):
        opened = await sessions_opened(url) - before - 1  # our own observer counts once
        await asyncio.sleep(0.1)
        if await sessions_opened(url) - before - 2 == opened:
            return opened
    return opened


async def test_a_pool_as_large_as_the_bursts_opens_each_connection_once(url):
    engine = make_engine(url, pool_size=CONCURRENT, max_overflow=0)
    assert await opened_by(url, engine, rounds=5) == CONCURRENT


async def test_connections_past_the_pool_size_are_opened_again_for_every_burst(url):
    # What the services did with SQLAlchemy's defaults (5 kept, 10 more for a burst) under load:
    # the difference is why DB_POOL_SIZE exists.
    engine = make_engine(url, pool_size=1, max_overflow=CONCURRENT - 1)
    assert await opened_by(url, engine, rounds=5) >= 1 + 5 * (CONCURRENT - 1)


async def test_the_service_sizes_both_pools_from_its_settings(url, nats_server):
    settings = TrackingSettings(
        database_url=url,
        nats_url=nats_server.url,
        jwt_secret=JWT_SECRET,
        run_background_workers=False,
        db_pool_size=7,
        db_max_overflow=2,
    )
    async with running(create_app(settings)) as app:
        runtime = app.state.runtime
        for engine in (runtime.engine, runtime.read_engine):
            assert (engine.pool.size(), engine.pool._max_overflow) == (7, 2)


async def test_what_start_up_made_is_kept_out_of_the_collectors_full_passes(url, nats_server):
    # A full collection walked every module, route and compiled statement (~125 ms for the
    # applications service) and stalled the request it landed on: the p99 of a list read.
    gc.unfreeze()
    settings = TrackingSettings(
        database_url=url, nats_url=nats_server.url, jwt_secret=JWT_SECRET, run_background_workers=False
    )
    async with running(create_app(settings)):
        assert gc.get_freeze_count() > 10_000

"""esign.db.DriverStatement: a Core statement compiled once and run on asyncpg itself. It takes
its values by name, commits on its own, and a connection lost under it is not handed out again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from esign.db import DriverStatement, make_engine

metadata = sa.MetaData()
counters = sa.Table(
    "driver_statement_counters",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)
BUMP = DriverStatement.of(
    sa.update(counters)
    .where(counters.c.name == sa.bindparam("counter"))
    .values(value=counters.c.value + sa.bindparam("by"))
    .returning(counters.c.value)
)


@pytest.fixture
async def engine(postgres):
    engine = make_engine(postgres.ensure_database("esign_driver_statement_test"), pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.insert(counters), [{"name": "a", "value": 0}, {"name": "b", "value": 100}])
    yield engine
    await engine.dispose()


async def value_of(engine, name: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(counters.c.value).where(counters.c.name == name))).scalar_one()


async def test_values_go_in_by_name_and_the_statement_commits_on_its_own(engine):
    async with engine.connect() as conn:
        assert await BUMP.fetchval(conn, by=5, counter="b") == 105
        # No commit: the connection goes back to the pool, which rolls back whatever was begun.
    assert await value_of(engine, "b") == 105
    assert await value_of(engine, "a") == 0


async def test_a_connection_lost_under_the_statement_is_not_handed_out_again(engine):
    async with engine.connect() as conn:
        pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        await conn.commit()
    killer = make_engine(engine.url.render_as_string(hide_password=False), poolclass=sa.NullPool)
    async with killer.connect() as conn:
        await conn.execute(sa.select(sa.func.pg_terminate_backend(pid)))
    await killer.dispose()

    # What asyncpg raises depends on when it reads the server's goodbye (AdminShutdownError,
    # InterfaceError, or InternalClientError with the protocol mid-operation): any of them.
    with pytest.raises(Exception):  # noqa: B017
        async with engine.connect() as conn:  # the pool's one connection: the one just terminated
            await BUMP.fetchval(conn, counter="a", by=1)
    async with engine.connect() as conn:  # a new one, not the dead one again
        assert await BUMP.fetchval(conn, counter="a", by=1) == 1

"""esign.db.make_read_only_engine, what GET and HEAD requests read through: no transaction of its
own around a read (one round trip, not BEGIN / select / COMMIT), and a write refused by the
server rather than committed; a read-only unit of work reads on one of its pooled connections."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from esign.db import make_engine, make_read_only_engine, make_session_factory
from esign.messaging_tables import define_messaging_tables
from esign.uow import UnitOfWork

metadata = sa.MetaData()
notes = sa.Table("read_only_notes", metadata, sa.Column("text", sa.Text, nullable=False))


@pytest.fixture(scope="module")
async def url(postgres):
    url = postgres.ensure_database("esign_read_only_test")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.insert(notes).values(text="written before"))
    await engine.dispose()
    return url


async def test_reads_see_committed_rows_each_statement_in_its_own_transaction(url):
    engine = make_read_only_engine(url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            assert (await session.execute(sa.select(notes.c.text))).scalars().all() == ["written before"]
            # now() is when the transaction began: the same for every statement of a transaction,
            # a new moment for each statement in autocommit.
            first = (await session.execute(sa.select(sa.func.now()))).scalar_one()
            second = (await session.execute(sa.select(sa.func.now()))).scalar_one()
            assert second > first
    finally:
        await engine.dispose()


async def test_a_write_is_refused_and_nothing_is_stored(url):
    engine = make_read_only_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(sa.insert(notes).values(text="slipped into a read"))
            await session.rollback()
            assert (await session.execute(sa.select(sa.func.count()).select_from(notes))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_a_read_only_unit_of_work_reads_on_a_pooled_connection_and_always_hands_it_back(url):
    # One connection in the pool and a short wait: a unit of work that kept its connection after a
    # failed read would make the next one time out.
    engine = make_read_only_engine(url, pool_size=1, max_overflow=0, pool_timeout=2)
    sessions = make_session_factory(engine)
    tables = define_messaging_tables(sa.MetaData())
    try:
        for _ in range(3):
            with pytest.raises(DBAPIError, match="read-only transaction"):
                async with UnitOfWork(sessions, tables, "readonlytest", read_only=True) as uow:
                    first = (await uow.session.execute(sa.select(sa.func.now()))).scalar_one()
                    second = (await uow.session.execute(sa.select(sa.func.now()))).scalar_one()
                    assert second > first  # autocommit: each statement is its own transaction
                    await uow.session.execute(sa.insert(notes).values(text="slipped into a read"))
        async with UnitOfWork(sessions, tables, "readonlytest", read_only=True) as uow:
            assert (await uow.session.execute(sa.select(sa.func.count()).select_from(notes))).scalar_one() == 1
            await uow.commit()
        assert engine.sync_engine.pool.checkedout() == 0
    finally:
        await engine.dispose()

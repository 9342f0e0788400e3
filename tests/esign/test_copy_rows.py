"""esign.db.copy_rows: COPY inside the session's transaction, so it commits and rolls back with
the rest of the unit of work, with JSON columns and defaults as an INSERT would give them."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from esign.db import copy_rows, make_engine, make_session_factory

metadata = sa.MetaData()
things = sa.Table(
    "copied_things",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("doc", JSONB, nullable=False),
    sa.Column("n", sa.Integer, nullable=False, server_default="7"),
)


@pytest.fixture(scope="module")
async def sessions(postgres):
    engine = make_engine(postgres.ensure_database("esign_copy_rows_test"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


async def rows_named(sessions, name: str) -> list:
    async with sessions() as s:
        return (await s.execute(sa.select(things).where(things.c.name == name))).all()


async def test_copied_rows_commit_with_the_transaction(sessions):
    ids = [uuid.uuid4() for _ in range(3)]
    async with sessions() as s, s.begin():
        await copy_rows(s, things, [{"id": i, "name": "kept", "doc": {"ğ": [1, "ş"]}} for i in ids])
    rows = await rows_named(sessions, "kept")
    assert {r.id for r in rows} == set(ids)
    assert all(r.doc == {"ğ": [1, "ş"]} and r.n == 7 for r in rows)


async def test_copied_rows_roll_back_with_the_transaction(sessions):
    async with sessions() as s:
        await s.begin()
        await copy_rows(s, things, [{"id": uuid.uuid4(), "name": "dropped", "doc": {}}])
        assert len((await s.execute(sa.select(things).where(things.c.name == "dropped"))).all()) == 1
        await s.rollback()
    assert await rows_named(sessions, "dropped") == []


async def test_nothing_to_copy_is_no_statement(sessions):
    async with sessions() as s, s.begin():
        await copy_rows(s, things, [])

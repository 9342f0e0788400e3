"""The repository base on the real database: a page holds the asked-for slice in the query's
order, and its total counts every row that matches the conditions (not just the page's)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from esign.db import make_engine, make_session_factory
from esign.repository import Repository

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("colour", sa.Text, nullable=False),
)


class ThingRepository(Repository):
    async def red_page(self, *, offset: int, limit: int):
        query = sa.select(things.c.id).where(things.c.colour == "red").order_by(things.c.id.desc())
        return await self._page(query, lambda row: row.id, offset=offset, limit=limit)

    async def get(self, thing_id: int):
        return await self._one_or_none(sa.select(things).where(things.c.id == thing_id), lambda row: row.colour)


@pytest.fixture(scope="module")
async def session_factory(postgres):
    engine = make_engine(postgres.ensure_database("esign_repository_base_test"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(things.insert(), [{"id": i, "colour": "red" if i % 3 else "blue"} for i in range(1, 31)])
    yield make_session_factory(engine)
    await engine.dispose()


async def test_a_page_is_the_slice_in_order_and_its_total_counts_every_match(session_factory):
    async with session_factory() as s:
        page = await ThingRepository(s).red_page(offset=2, limit=3)
    assert page.total == 20
    assert list(page.items) == [26, 25, 23]  # red, newest first: 29, 28, then these


async def test_a_page_past_the_end_is_empty_but_keeps_the_total(session_factory):
    async with session_factory() as s:
        page = await ThingRepository(s).red_page(offset=100, limit=3)
    assert (page.total, list(page.items)) == (20, [])


async def test_one_or_none(session_factory):
    async with session_factory() as s:
        repo = ThingRepository(s)
        assert (await repo.get(3), await repo.get(4), await repo.get(99)) == ("blue", "red", None)

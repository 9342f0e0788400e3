"""esign.repository.ReadQuery: a hot read that runs on asyncpg itself in a read-only unit of work
(an autocommit connection) and through SQLAlchemy inside a transaction. A repository's decoder
must not be able to tell the two apart: same attributes, same values, JSON decoded, UUIDs that
compare equal, rows in the same order; and a transaction sees its own uncommitted writes."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from esign.db import DriverStatement, make_engine, make_read_only_engine, make_session_factory
from esign.repository import PageQuery, ReadQuery, Repository

metadata = sa.MetaData()
cards = sa.Table(
    "read_query_cards",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=True),
)
IDS = [uuid.UUID(int=n) for n in range(1, 6)]
BY_KIND = PageQuery.of(
    sa.select(cards.c.id, cards.c.holder.label("holder_name"), cards.c.details)
    .where(cards.c.kind == sa.any_(sa.bindparam("kinds", type_=ARRAY(sa.Text))))
    .order_by(cards.c.holder)
)
ONE = ReadQuery(sa.select(cards).where(cards.c.id == sa.bindparam("card_id")))


class Cards(Repository):
    async def one(self, card_id: uuid.UUID) -> tuple | None:
        return await self._one_or_none(ONE, lambda r: (r.id, r.holder, r.kind, r.details), {"card_id": card_id})

    async def page(self, kinds: list[str], *, offset: int, limit: int):
        return await self._page(
            BY_KIND, lambda r: (r.id, r.holder_name, r.details), offset=offset, limit=limit, params={"kinds": kinds}
        )


@pytest.fixture(scope="module")
async def url(postgres):
    url = postgres.ensure_database("esign_read_query_test")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            sa.insert(cards),
            [
                {"id": IDS[0], "holder": "Ayşe", "kind": "akis", "details": {"serial": "01", "pins": [1, 2]}},
                {"id": IDS[1], "holder": "Can", "kind": "akis", "details": None},
                {"id": IDS[2], "holder": "Deniz", "kind": "token", "details": {"serial": "03"}},
                {"id": IDS[3], "holder": "Ece", "kind": "other", "details": {}},
            ],
        )
    await engine.dispose()
    return url


async def both_ways(url, read):
    """``read(repository)`` on a read-only connection (the driver) and in a session's transaction."""
    reads, writes = make_read_only_engine(url), make_engine(url)
    try:
        async with reads.connect() as connection:
            on_driver = await read(Cards(connection))
        async with make_session_factory(writes)() as session, session.begin():
            in_transaction = await read(Cards(session))
    finally:
        await reads.dispose()
        await writes.dispose()
    return on_driver, in_transaction


async def test_one_row_reads_the_same_on_the_driver_and_in_a_transaction(url):
    on_driver, in_transaction = await both_ways(url, lambda cards: cards.one(IDS[0]))
    assert on_driver == in_transaction == (IDS[0], "Ayşe", "akis", {"serial": "01", "pins": [1, 2]})
    assert isinstance(on_driver[0], uuid.UUID)
    missing = await both_ways(url, lambda cards: cards.one(IDS[4]))
    assert missing == (None, None)


async def test_a_page_reads_the_same_on_the_driver_and_in_a_transaction(url):
    async def read(cards):
        return await cards.page(["akis", "token"], offset=1, limit=2)

    on_driver, in_transaction = await both_ways(url, read)
    assert on_driver.total == in_transaction.total == 3
    assert (
        list(on_driver.items)
        == list(in_transaction.items)
        == [(IDS[1], "Can", None), (IDS[2], "Deniz", {"serial": "03"})]
    )


async def test_inside_a_transaction_the_read_sees_its_own_uncommitted_write(url):
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            await session.execute(sa.insert(cards).values(id=IDS[4], holder="Filiz", kind="akis"))
            assert (await Cards(session).one(IDS[4]))[1] == "Filiz"
            await session.rollback()
    finally:
        await engine.dispose()


def test_a_driver_statement_refuses_an_expanding_in():
    # SQLAlchemy renders an expanding IN per execution; compiled once it would be wrong SQL.
    with pytest.raises(ValueError, match="ANY"):
        DriverStatement.of(sa.select(cards.c.id).where(cards.c.kind.in_(sa.bindparam("kinds", expanding=True))))

"""Events out of a unit of work, on the real database: an aggregate a repository loaded has its
events collected at commit without any handler handing it over, and an event nobody maps is an
error that commits nothing (it used to be dropped silently)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pytest
import sqlalchemy as sa

from esign.db import make_engine, make_session_factory
from esign.events import EventData, event
from esign.messaging_tables import define_messaging_tables
from esign.repository import AggregateRepository
from esign.uow import ReadOnlyWrite, UnitOfWork, UnmappedEvent

metadata = sa.MetaData()
tables = define_messaging_tables(metadata)
PRODUCER = "uowtest"


@event
class CounterMoved(EventData):
    type: ClassVar[str] = f"{PRODUCER}.counter.moved"
    to: int


@dataclass
class Moved:
    to: int


@dataclass
class Renamed:
    name: str


@dataclass
class Counter:
    value: int = 0
    events: list[object] = field(default_factory=list)

    def move(self) -> None:
        self.value += 1
        self.events.append(Moved(self.value))

    def rename(self, name: str) -> None:
        self.events.append(Renamed(name))

    def pull_events(self) -> list[object]:
        events, self.events = self.events, []
        return events


class CounterRepository(AggregateRepository):
    def load(self) -> Counter:
        return self._register(Counter())


def map_counter_event(domain_event: object):
    if not isinstance(domain_event, Moved):
        raise UnmappedEvent(type(domain_event).__name__)
    yield CounterMoved(to=domain_event.to)


class CounterUnitOfWork(UnitOfWork):
    counters: CounterRepository

    async def __aenter__(self) -> CounterUnitOfWork:
        await super().__aenter__()
        self.counters = CounterRepository(self.session)
        return self


@pytest.fixture(scope="module")
async def session_factory(postgres):
    engine = make_engine(postgres.ensure_database("esign_uow_events_test"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


async def test_loaded_aggregates_events_reach_the_outbox_without_being_handed_over(session_factory):
    async with CounterUnitOfWork(session_factory, tables, PRODUCER, map_counter_event) as uow:
        counter = uow.counters.load()
        counter.move()
        counter.move()
        await uow.commit()
    async with session_factory() as s:
        envelopes = (await s.execute(sa.select(tables.outbox.c.envelope))).scalars().all()
    moved = [e["data"]["to"] for e in envelopes if e["type"] == CounterMoved.type]
    assert moved[-2:] == [1, 2]


async def test_an_event_nobody_maps_is_an_error_and_nothing_is_written(session_factory):
    async with session_factory() as s:
        before = (await s.execute(sa.select(sa.func.count()).select_from(tables.outbox))).scalar_one()
    async with CounterUnitOfWork(session_factory, tables, PRODUCER, map_counter_event) as uow:
        counter = uow.counters.load()
        counter.move()
        counter.rename("x")
        with pytest.raises(UnmappedEvent, match="Renamed"):
            await uow.commit()
    async with session_factory() as s:
        after = (await s.execute(sa.select(sa.func.count()).select_from(tables.outbox))).scalar_one()
    assert after == before


async def test_a_service_without_a_mapper_cannot_drop_an_aggregates_events(session_factory):
    async with CounterUnitOfWork(session_factory, tables, PRODUCER) as uow:
        uow.counters.load().move()
        with pytest.raises(UnmappedEvent, match="no event mapper"):
            await uow.commit()


async def test_a_read_only_unit_of_work_that_raised_an_event_fails_at_commit_and_writes_nothing(session_factory):
    async with session_factory() as s:
        before = (await s.execute(sa.select(sa.func.count()).select_from(tables.outbox))).scalar_one()
    async with CounterUnitOfWork(session_factory, tables, PRODUCER, map_counter_event, read_only=True) as uow:
        uow.counters.load()
        await uow.commit()  # it only read: fine
        uow.counters.load().move()
        with pytest.raises(ReadOnlyWrite, match=CounterMoved.type):
            await uow.commit()
    async with session_factory() as s:
        after = (await s.execute(sa.select(sa.func.count()).select_from(tables.outbox))).scalar_one()
    assert after == before

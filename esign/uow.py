"""Unit of work: one database transaction, the aggregates it touched, and the events they raised.

On ``commit`` the events of every aggregate its repositories loaded or added
(esign.repository.AggregateRepository), mapped to contract events by the service's
``event_mapper``, and those emitted by a handler for facts that belong to no aggregate, are
written to the outbox in the same transaction as the state change, so a crash can lose neither
half without the other. An aggregate event that no mapper turns into a contract event is an
error, not a silent drop.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from esign.db import Executor, factory_engine
from esign.events import Envelope, EventData
from esign.messaging_tables import MessagingTables
from esign.repository import AggregateRepository, HasEvents


class UnmappedEvent(LookupError):
    """An aggregate raised an event the service does not know how to publish (a programming error)."""


# Maps one domain event (plain object from the domain layer) to the contract events to publish.
EventMapper = Callable[[Any], Iterable[EventData]]


class ReadOnlyWrite(RuntimeError):
    """A unit of work on the read-only connections raised or emitted an event (a programming error:
    a read that changes something)."""


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        producer: str,
        event_mapper: EventMapper | None = None,
        on_commit: Callable[[], None] | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self._tables = tables
        self._producer = producer
        self._event_mapper = event_mapper
        self._on_commit = on_commit
        self._read_only = read_only
        self._emitted: list[Envelope] = []
        self._after_commit: list[Callable[[], None]] = []
        self.session: Executor

    async def __aenter__(self) -> UnitOfWork:
        if self._read_only:
            # A read needs none of a Session's bookkeeping (identity map, transaction states, the
            # rollback on the way out): a pooled autocommit connection runs the repositories' Core
            # statements for about a third less of the database layer's CPU (docs/benchmarks.md).
            self.session = await factory_engine(self._session_factory).connect()
            return self
        self.session = self._session_factory()
        await self.session.begin()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if isinstance(self.session, AsyncConnection):
            await self.session.close()  # autocommit: nothing to roll back
            return
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Runs ``callback`` once this unit of work has committed (e.g. to wake a worker that
        would otherwise find nothing yet)."""
        self._after_commit.append(callback)

    def emit(self, event: EventData, *, event_id: uuid.UUID | None = None) -> Envelope:
        envelope = Envelope.wrap(event, self._producer, event_id=event_id)
        self._emitted.append(envelope)
        return envelope

    def _aggregates(self) -> list[HasEvents]:
        # A service's unit of work holds its repositories as attributes (set in __aenter__).
        return [a for repo in vars(self).values() if isinstance(repo, AggregateRepository) for a in repo.seen]

    def _collect(self) -> list[Envelope]:
        envelopes: list[Envelope] = []
        for aggregate in self._aggregates():
            for domain_event in aggregate.pull_events():
                if self._event_mapper is None:
                    raise UnmappedEvent(f"{type(domain_event).__name__}: {self._producer} has no event mapper")
                envelopes += [Envelope.wrap(e, self._producer) for e in self._event_mapper(domain_event)]
        envelopes += self._emitted
        self._emitted = []
        return envelopes

    async def flush_events(self) -> int:
        envelopes = self._collect()
        if envelopes:
            await self.session.execute(
                sa.insert(self._tables.outbox),
                [{"id": e.id, "subject": e.subject, "envelope": e.model_dump(mode="json")} for e in envelopes],
            )
        return len(envelopes)

    async def commit(self) -> None:
        if self._read_only:
            # Autocommit connections: nothing to commit, so no round trip and none of the session's
            # commit bookkeeping; an event a read raised still fails, loudly.
            if events := self._collect():
                raise ReadOnlyWrite(f"a read-only unit of work raised {[e.subject for e in events]}")
            return
        written = await self.flush_events()
        await self.session.commit()
        if written and self._on_commit:
            self._on_commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def rollback(self) -> None:
        self._emitted = []
        self._after_commit = []
        await self.session.rollback()

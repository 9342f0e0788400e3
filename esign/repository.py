"""The one small repository base every service builds on (Polar's ``kit/repository``).

``Repository`` holds the session and the two queries every repository writes the same way: one
row or none, and a page with the total that matches the same conditions. Everything else a
repository does is its own named query.

``AggregateRepository`` adds what a repository of an event-raising aggregate shares: it registers
each aggregate it loads or adds, so the unit of work collects their events at commit
(cosmicpython's ``collect_new_events``). No handler has to remember to hand an aggregate over, so
none can forget.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from esign.db import DriverStatement, Executor

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and how many items the whole listing has."""

    total: int
    items: Sequence[T]


@dataclass(frozen=True, slots=True)
class ReadQuery:
    """A read on a hot path, built once with bind parameters. In a read-only unit of work (an
    autocommit connection) it runs on asyncpg itself: SQLAlchemy's work per execution (cache key,
    parameter and result processing, the greenlet hop) cost more than the whole bare read it
    wraps (docs/benchmarks.md). In a unit of work that writes, SQLAlchemy runs it in the
    transaction. Either way the rows answer by attribute (``row.status``), so the repository's
    decoder is the same for both."""

    statement: sa.Select[Any]
    driver: DriverStatement = field(init=False)
    row: type = field(init=False)  # a named tuple of the selected columns

    def __post_init__(self) -> None:
        object.__setattr__(self, "driver", DriverStatement.of(self.statement))
        object.__setattr__(self, "row", namedtuple("Row", self.statement.selected_columns.keys()))

    async def rows(self, session: Executor, params: Mapping[str, Any]) -> Sequence[Any]:
        if isinstance(session, AsyncConnection):
            records: list[asyncpg.Record] = await self.driver.fetch(session, **params)
            return [self.row._make(r.values()) for r in records]  # type: ignore[attr-defined]
        return (await session.execute(self.statement, params)).all()

    async def scalar(self, session: Executor, params: Mapping[str, Any]) -> Any:
        if isinstance(session, AsyncConnection):
            return await self.driver.fetchval(session, **params)
        return (await session.execute(self.statement, params)).scalar_one()


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A listing's rows and its total, built once (see ``Repository._page``): the rows take their
    window as the bind parameters ``page_limit`` and ``page_offset``."""

    rows: ReadQuery
    total: ReadQuery

    @classmethod
    def of(cls, query: sa.Select[Any]) -> PageQuery:
        """``query`` carries the conditions and the order; the total counts the same rows, ignoring
        the order (so the count does not sort)."""
        return cls(rows=ReadQuery(_window(query)), total=ReadQuery(_total(query)))


def _window(query: sa.Select[Any]) -> sa.Select[Any]:
    return query.limit(sa.bindparam("page_limit")).offset(sa.bindparam("page_offset"))


def _total(query: sa.Select[Any]) -> sa.Select[Any]:
    return query.order_by(None).with_only_columns(sa.func.count(), maintain_column_froms=True)


class Repository:
    def __init__(self, session: Executor) -> None:
        self.session = session

    async def _one_or_none(
        self,
        query: sa.Select[Any] | ReadQuery,
        decode: Callable[[Any], T],
        params: Mapping[str, Any] | None = None,
    ) -> T | None:
        """``params``: values for the query's ``sa.bindparam``s. A query on a hot path is a
        ``ReadQuery`` built once, at import, with bind parameters."""
        if isinstance(query, ReadQuery):
            rows = await query.rows(self.session, params or {})
            row = rows[0] if rows else None
        else:
            row = (await self.session.execute(query, params)).first()
        return None if row is None else decode(row)

    async def _page(
        self,
        query: sa.Select[Any] | PageQuery,
        decode: Callable[[Any], T],
        *,
        offset: int,
        limit: int,
        params: Mapping[str, Any] | None = None,
    ) -> Page[T]:
        """A page of ``query`` (see ``PageQuery.of``) and the total. A listing on a hot path passes
        a ``PageQuery`` built once and its values as ``params``, as ``_one_or_none`` does."""
        values = params or {}
        window = {**values, "page_limit": limit, "page_offset": offset}
        if isinstance(query, PageQuery):
            total = await query.total.scalar(self.session, values)
            rows = await query.rows.rows(self.session, window)
        else:  # built for this call: SQLAlchemy runs it (compiling it for the driver would cost more)
            total = (await self.session.execute(_total(query), values)).scalar_one()
            rows = (await self.session.execute(_window(query), window)).all()
        return Page(total=total, items=[decode(row) for row in rows])


class HasEvents(Protocol):
    def pull_events(self) -> list[Any]: ...


A = TypeVar("A", bound=HasEvents)


class AggregateRepository(Repository):
    def __init__(self, session: Executor) -> None:
        super().__init__(session)
        self.seen: list[HasEvents] = []

    def _register(self, aggregate: A) -> A:
        if not any(aggregate is known for known in self.seen):
            self.seen.append(aggregate)
        return aggregate

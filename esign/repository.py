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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa

from esign.db import Executor

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and how many items the whole listing has."""

    total: int
    items: Sequence[T]


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A listing's rows and its total, built once (see ``Repository._page``): the rows take their
    window as the bind parameters ``page_limit`` and ``page_offset``."""

    rows: sa.Select[Any]
    total: sa.Select[Any]

    @classmethod
    def of(cls, query: sa.Select[Any]) -> PageQuery:
        """``query`` carries the conditions and the order; the total counts the same rows, ignoring
        the order (so the count does not sort)."""
        return cls(
            rows=query.limit(sa.bindparam("page_limit")).offset(sa.bindparam("page_offset")),
            total=query.order_by(None).with_only_columns(sa.func.count(), maintain_column_froms=True),
        )


class Repository:
    def __init__(self, session: Executor) -> None:
        self.session = session

    async def _one_or_none(
        self,
        query: sa.Select[Any],
        decode: Callable[[sa.Row[Any]], T],
        params: Mapping[str, Any] | None = None,
    ) -> T | None:
        """``params``: values for the query's ``sa.bindparam``s. A query on a hot path is built once,
        at import, with bind parameters: SQLAlchemy then reuses its cache key instead of computing
        it anew for each freshly built statement (about a sixth of a primary-key read's CPU)."""
        row = (await self.session.execute(query, params)).first()
        return None if row is None else decode(row)

    async def _page(
        self,
        query: sa.Select[Any] | PageQuery,
        decode: Callable[[sa.Row[Any]], T],
        *,
        offset: int,
        limit: int,
        params: Mapping[str, Any] | None = None,
    ) -> Page[T]:
        """A page of ``query`` (see ``PageQuery.of``) and the total. A listing on a hot path passes
        a ``PageQuery`` built once and its values as ``params``, as ``_one_or_none`` does."""
        paged = query if isinstance(query, PageQuery) else PageQuery.of(query)
        values = params or {}
        total = (await self.session.execute(paged.total, values)).scalar_one()
        rows = (await self.session.execute(paged.rows, {**values, "page_limit": limit, "page_offset": offset})).all()
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

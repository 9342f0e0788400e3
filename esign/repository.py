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
        query: sa.Select[Any],
        decode: Callable[[sa.Row[Any]], T],
        *,
        offset: int,
        limit: int,
    ) -> Page[T]:
        """``query`` carries the conditions and the order; the total counts the same rows, ignoring
        the order (so the count does not sort)."""
        counted = query.order_by(None).with_only_columns(sa.func.count(), maintain_column_froms=True)
        total = (await self.session.execute(counted)).scalar_one()
        rows = (await self.session.execute(query.limit(limit).offset(offset))).all()
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

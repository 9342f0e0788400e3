"""A fixed-window request counter in PostgreSQL, so every replica of a service sees the same
count for a client. One upsert per request: ``INSERT .. ON CONFLICT DO UPDATE .. RETURNING``
increments atomically, no lock held beyond the statement.

A service keeps the table in its own database: its metadata calls ``define_rate_limit_table`` and
its migration ``create_rate_limit_table``.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from esign.db import DriverStatement, Executor
from esign.problems import Problem

TABLE_NAME = "rate_limit_windows"


def _columns() -> list[sa.Column]:
    return [
        sa.Column(
            "bucket", sa.Text, primary_key=True, comment="what is limited and for whom, e.g. 'query:203.0.113.9'"
        ),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    ]


def define_rate_limit_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(TABLE_NAME, metadata, *_columns())


def create_rate_limit_table() -> None:
    """For a service's Alembic migration."""
    from alembic import op

    op.create_table(TABLE_NAME, *_columns())


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hits: int
    retry_after_seconds: int  # until the current window ends (0 when allowed)


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)


def decide(hits: int, rule: RateLimit, *, start: datetime, now: datetime) -> Decision:
    """Whether the ``hits``-th request of the window starting at ``start`` is within ``rule``."""
    if hits <= rule.limit:
        return Decision(True, hits, 0)
    remaining = (start + timedelta(seconds=rule.window_seconds) - now).total_seconds()
    return Decision(False, hits, max(1, math.ceil(remaining)))


def _counting_statement(table: sa.Table) -> DriverStatement:
    """Counts one request against a bucket's window and returns the window's count (one upsert)."""
    insert = pg_insert(table).values(bucket=sa.bindparam("bucket"), window_start=sa.bindparam("window_start"), hits=1)
    return DriverStatement.of(
        insert.on_conflict_do_update(
            index_elements=[table.c.bucket, table.c.window_start], set_={"hits": table.c.hits + 1}
        ).returning(table.c.hits)
    )


# Every service's table is ``define_rate_limit_table``'s: the statement needs only its name and columns.
COUNT = _counting_statement(define_rate_limit_table(sa.MetaData()))


async def hit(engine: AsyncEngine, bucket: str, rule: RateLimit, now: datetime) -> Decision:
    """Counts in one autocommit statement on a connection of its own, outside any unit of work: the
    counter row's lock lasts the upsert only, and the count is visible to every replica at once.
    Inside ``BEGIN .. COMMIT`` the lock lasted until the client's ``COMMIT`` arrived, and under load
    every request from one address queued on it (149 of 200 ``pg_stat_activity`` samples waited on
    that lock). The upsert runs on asyncpg directly (``DriverStatement``): every public query
    counts twice, and SQLAlchemy's per-statement work was most of a count's cost, as was the unit
    of work it used to be counted in (a session begun and committed around no statement of its own)."""
    start = window_start(now, rule.window_seconds)
    async with engine.connect() as connection:
        hits = await COUNT.fetchval(connection, bucket=bucket, window_start=start)
    return decide(hits, rule, start=start, now=now)


async def purge(session: Executor, table: sa.Table, older_than: datetime) -> int:
    result = await session.execute(sa.delete(table).where(table.c.window_start < older_than))
    return result.rowcount or 0  # type: ignore[attr-defined]  # a DML result has a rowcount


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The caller's address. X-Forwarded-For is believed only when the direct peer is a configured
    proxy, and then the right-most hop that is not one of ours is the client."""
    peer = request.client.host if request.client else "unknown"
    networks = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in n for n in networks)

    if not networks or not trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            return hop
    return peer


async def count_against(request: Request, bucket: str, rule: RateLimit) -> None:
    """Counts the call against ``bucket`` in a transaction of its own, committed at once, so every
    replica sees it and a refused or failed call still counts; 429 with Retry-After past the limit.
    The app's state must hold ``runtime`` (its ``engine`` on the service's database, which has the
    rate-limit table) and ``clock``."""
    state = request.app.state
    decision = await hit(state.runtime.engine, bucket, rule, state.clock.now())
    if not decision.allowed:
        raise Problem(
            429,
            "rate_limited",
            "Too many requests",
            f"At most {rule.limit} requests per {rule.window_seconds} seconds; try again later.",
            headers={"Retry-After": str(decision.retry_after_seconds)},
            retry_after_seconds=decision.retry_after_seconds,
        )


def per_client_limit(bucket: str, rule_of: Callable[[Any], RateLimit]) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency counting each call against the client's address (``bucket:<address>``,
    see :func:`count_against`); the app's ``settings`` hold ``trusted_proxies``."""

    async def dependency(request: Request) -> None:
        settings = request.app.state.settings
        rule = rule_of(settings)
        await count_against(request, f"{bucket}:{client_address(request, settings.trusted_proxies)}", rule)

    return dependency


class RateLimitRepository:
    """The counters of one service's table, for its unit of work's housekeeping (counting itself
    is ``hit``, outside any unit of work)."""

    def __init__(self, session: Executor, table: sa.Table) -> None:
        self._session = session
        self._table = table

    async def purge(self, older_than: datetime) -> int:
        return await purge(self._session, self._table, older_than)

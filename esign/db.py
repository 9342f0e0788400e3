"""Async SQLAlchemy engine and session factory."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler


def async_url(url: str) -> str:
    """Accepts plain ``postgresql://`` URLs (as ops and the embedded server give them)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A failed statement's message would otherwise carry its parameters (TC Kimlik Nos, birth
    # dates, search text) into every log line and traceback that prints it.
    kwargs.setdefault("hide_parameters", True)
    # No pool_pre_ping: with asyncpg it is three round trips (BEGIN, ";", ROLLBACK) before every
    # transaction, more than a primary-key read itself. A connection the server dropped fails its
    # next statement instead; SQLAlchemy then invalidates the pool, so after a database restart one
    # request per process fails and the next ones reconnect. pool_recycle retires connections
    # before a proxy or firewall silently drops them for being idle.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(async_url(url), **kwargs)


def make_read_only_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Connections for requests that only read (GET, HEAD): autocommit, so a read is one round trip
    instead of three (``BEGIN``, the select, ``COMMIT``), and read-only in the server
    (``default_transaction_read_only``), so a write slipped into a read fails instead of being
    committed statement by statement. Under PostgreSQL's default READ COMMITTED every statement
    has its own snapshot inside a transaction too: a read sees the same data either way."""
    connect_args = kwargs.pop("connect_args", {})
    server_settings = {**connect_args.get("server_settings", {}), "default_transaction_read_only": "on"}
    return make_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={**connect_args, "server_settings": server_settings}, **kwargs
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# What repositories run their Core statements on: a unit of work's session, or, for a read-only
# unit of work, a pooled autocommit connection (esign.uow). Both have the same ``execute``.
Executor = AsyncSession | AsyncConnection


def factory_engine(factory: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine the sessions of ``factory`` are bound to (the services' factories always bind one)."""
    bind = factory.kw["bind"]
    assert isinstance(bind, AsyncEngine), "the services' session factories are bound to their engine"
    return bind


async def copy_rows(session: Executor, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Writes ``rows`` (all with the same keys) into ``table`` with PostgreSQL ``COPY``, inside the
    session's transaction: for thousands of rows, several times faster than multi-row INSERTs
    (no SQL to build or parse, binary rows). Columns left out get their defaults."""
    if not rows:
        return
    columns = list(rows[0])
    as_json = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}  # JSONB included
    records = [tuple(json.dumps(row[c]) if c in as_json else row[c] for c in columns) for row in rows]
    # The asyncpg adapter sends BEGIN lazily, with the first statement: make sure it has gone, so
    # the COPY belongs to the session's transaction rather than committing on its own.
    await session.execute(sa.select(sa.literal(1)))
    connection = session if isinstance(session, AsyncConnection) else await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None  # a checked-out connection always has one
    await driver.copy_records_to_table(table.name, records=records, columns=columns, schema_name=table.schema)


_ASYNCPG = PGDialect_asyncpg()


@dataclass(frozen=True)
class DriverStatement:
    """A Core statement compiled once (at import or first use) to run on asyncpg itself (prepared and cached by
    asyncpg per connection): for the few statements on a hot path where SQLAlchemy's work per
    execution (cache key, parameter and result processing) costs more than the round trip. The
    SQL is still written with the Core, against the tables' metadata; values go in as asyncpg's
    own types (JSON as text) and come out as asyncpg's, JSON decoded (the codecs SQLAlchemy's
    dialect sets on every pooled connection)."""

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]

    @classmethod
    def of(cls, statement: sa.ClauseElement) -> DriverStatement:
        compiled = statement.compile(dialect=_ASYNCPG)
        assert isinstance(compiled, SQLCompiler)  # asyncpg's numbered ($1) parameters: in order
        if "POSTCOMPILE" in str(compiled):
            # An expanding IN is rendered per execution by SQLAlchemy: write ``= ANY(:array)``.
            raise ValueError("a DriverStatement cannot hold an expanding IN (render it as = ANY(array))")
        return cls(str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        merged = {**self.defaults, **values}
        return [merged[name] for name in self.names]

    async def fetchval(self, connection: AsyncConnection, **values: Any) -> Any:
        """On ``connection`` outside any transaction: the statement commits on its own (the
        asyncpg adapter begins a transaction only when SQLAlchemy runs a statement, and none has)."""
        return await self._run(connection, "fetchval", values)

    async def fetch(self, connection: AsyncConnection, **values: Any) -> list[asyncpg.Record]:
        """The rows, on ``connection`` outside any transaction (as ``fetchval``). JSON columns
        arrive decoded: SQLAlchemy's dialect set the codecs up on every pooled connection."""
        return await self._run(connection, "fetch", values)

    async def _run(self, connection: AsyncConnection, method: str, values: Mapping[str, Any]) -> Any:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # a checked-out connection always has one
        try:
            return await getattr(driver, method)(self.sql, *self.arguments(values))
        except BaseException:
            # SQLAlchemy saw none of it: the connection may be lost, ended by the server, or
            # cancelled mid-protocol. Its pool must not hand it out again; errors are rare enough
            # that a statement merely refused costs a new connection too.
            await connection.invalidate()
            raise

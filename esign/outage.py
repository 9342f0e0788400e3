"""Telling a database outage from a failure of the work itself.

A consumer's retries and dead letters are for events that cannot be applied. PostgreSQL being
unreachable is not the event's fault: the consumer waits for the database instead of using up the
event's attempts (esign.consumer). ``looks_like_connection_failure`` says whether an exception
could be the database gone; the caller then asks the database itself before believing it, so a
handler's own ``OSError`` (a provider's socket, say) with the database up still counts as a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import sqlalchemy as sa
import structlog
from prometheus_client import Counter

log = structlog.get_logger("esign.outage")

WAITS = Counter("esign_database_outage_waits_total", "Rounds a worker waited for an unreachable database", ["worker"])

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, the socket file gone
    TimeoutError,  # connecting, or a connection from the pool
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,  # the pool had no connection in time
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,  # starting up or in recovery after a crash
    asyncpg.AdminShutdownError,  # killed backends (pg_terminate_backend, a server stopping)
)


def looks_like_connection_failure(exc: BaseException) -> bool:
    """True if ``exc`` or anything it was raised from is a connection-level failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _CONNECTION_ERRORS):
            return True
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


async def wait_for_database(
    answers: Callable[[], Awaitable[bool]],
    *,
    worker: str,
    max_delay: float,
    while_waiting: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Returns once ``answers()`` is True, asking again after 0.1 s, then twice as long each time
    up to ``max_delay`` seconds. ``while_waiting`` runs before every pause (e.g. to tell JetStream
    the messages in hand are still being worked on)."""
    delay = min(0.1, max_delay)
    log.warning("database_unreachable", worker=worker)
    while not await answers():
        WAITS.labels(worker).inc()
        if while_waiting is not None:
            await while_waiting()
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
    log.info("database_back", worker=worker)


async def database_answers(probe: Callable[[], Awaitable[object]]) -> bool:
    """True if ``probe()`` (e.g. a ``SELECT 1``) runs; False if it fails as a lost connection
    would. Any other error is raised: it is not an outage."""
    try:
        await probe()
    except Exception as exc:
        if looks_like_connection_failure(exc):
            return False
        raise
    return True

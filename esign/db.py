"""Async SQLAlchemy engine and session factory."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


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


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)

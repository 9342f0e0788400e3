"""Alembic, driven from code: each service keeps its own history in ``<service>/migrations``
and its ``env.py`` is one call to ``run_env``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from esign.db import async_url

MIGRATION_LOCK = 0x6573_6967_6E00  # "esign": any constant; advisory locks are per database


def alembic_config(migrations_dir: Path, url: str, settings: Mapping[str, str] | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    config.attributes["settings"] = dict(settings or {})
    return config


def upgrade(
    migrations_dir: Path, url: str, revision: str = "head", *, settings: Mapping[str, str] | None = None
) -> None:
    """Synchronous; from async code call it through ``asyncio.to_thread`` (env.py runs its own loop).
    Safe to run from several processes at once (see ``run_env``). ``settings``: environment-style
    settings a migration may need beyond the process environment (``setting``), e.g. the keys
    that encrypt existing rows when ``esign up`` migrates in its own process."""
    command.upgrade(alembic_config(migrations_dir, url, settings), revision)


def setting(name: str) -> str | None:
    """Inside a migration: a setting given to ``upgrade``, else the environment's."""
    given = context.config.attributes.get("settings", {})
    return given.get(name) or os.environ.get(name)


def current(migrations_dir: Path, url: str) -> str | None:
    """The revision the database is at (None: never migrated)."""

    async def read() -> str | None:
        engine = create_async_engine(async_url(url), poolclass=sa.NullPool, hide_parameters=True)
        try:
            async with engine.connect() as connection:
                exists = await connection.scalar(sa.text("SELECT to_regclass('alembic_version') IS NOT NULL"))
                return await connection.scalar(sa.text("SELECT version_num FROM alembic_version")) if exists else None
        finally:
            await engine.dispose()

    return asyncio.run(read())


def run_env(target_metadata: sa.MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "alembic.ini or esign.migrations sets sqlalchemy.url"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            # Every replica may migrate as it starts (an init container per pod): the first takes
            # this lock and migrates; the others wait, then find the database already at head.
            # Released with the transaction, so a crashed migrator leaves no lock behind.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=sa.NullPool, hide_parameters=True)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(main())

"""Starting a service for tests the way it runs: its own migrated database on the session's
PostgreSQL, its app's lifespan (relay, consumers, workers), and an HTTP client over ASGI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from nats.aio.client import Client as NATS

from esign import jetstream, migrations
from esign.embedded import EmbeddedNats, EmbeddedPostgres
from esign.service import ServiceDefinition


async def migrated_database(postgres: EmbeddedPostgres, name: str, migrations_dir: Path) -> str:
    url = postgres.ensure_database(name)
    await asyncio.to_thread(migrations.upgrade, migrations_dir, url)
    return url


@contextmanager
def own_nats(scratch_dir: Path, name: str) -> Iterator[EmbeddedNats]:
    """A NATS server of a test package's own: durable consumer names are per service, so two
    packages running the same service on one server would take each other's messages."""
    server = EmbeddedNats(scratch_dir / f"nats-{name}").start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Backends:
    """What a service's test package runs it on: its migrated database and its own NATS server,
    with a client connected to that server."""

    database_url: str
    nats_url: str
    nc: NATS


@asynccontextmanager
async def own_backends(
    postgres: EmbeddedPostgres, scratch_dir: Path, definition: ServiceDefinition, *, database: str
) -> AsyncIterator[Backends]:
    with own_nats(scratch_dir, definition.name) as server:
        database_url = await migrated_database(postgres, database, definition.migrations_dir)
        nc = await jetstream.connect(server.url, name=f"{definition.name}-tests")
        try:
            yield Backends(database_url, server.url, nc)
        finally:
            await nc.close()


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def asgi_client(app: FastAPI, base_url: str = "http://service.test") -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: a test sees the 500 problem response a real client would.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client

"""Real parts for every test: one embedded PostgreSQL and one NATS server (JetStream) per test
session, on free ports and in temporary directories."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from esign.embedded import EmbeddedNats, EmbeddedPostgres
from esign.jetstream import connect
from tests.support.auth import Auth


@pytest.fixture(scope="session")
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="esign-tests-") as d:
        os.chmod(d, 0o755)  # the embedded server runs as its own user when tests run as root
        yield Path(d)


@pytest.fixture(scope="session")
def postgres(scratch_dir: Path) -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(scratch_dir / "pg", persistent=False).start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def nats_server(scratch_dir: Path) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(scratch_dir / "nats").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def nc(nats_server: EmbeddedNats) -> AsyncIterator[NATS]:
    client = await connect(nats_server.url, name="tests")
    yield client
    await client.close()


@pytest.fixture(scope="session")
def auth() -> Auth:
    """Authorization headers per role, signed with the key every service under test trusts."""
    return Auth()


@pytest.fixture(scope="module")
async def chromium():
    """Headless Chromium for a module's browser tests (imported here only when a test asks for it)."""
    from tests.support.browser import headless_chromium

    async with headless_chromium() as browser:
        yield browser

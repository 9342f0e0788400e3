"""The applications service under test: migrated database, the app with its lifespan running
(relay, consumers, invitation issuer), an HTTP client, and helpers per role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from nats.aio.client import Client as NATS

from esign.embedded import EmbeddedNats, EmbeddedPostgres
from esign.local_ca import LocalCA
from services.applications.app import DEFINITION, create_app
from services.applications.config import ApplicationsSettings
from tests.support.applications import (
    APPLICATIONS_TEST_SETTINGS,
    Flow,
    InvitationInbox,
)
from tests.support.clock import SettableClock
from tests.support.renewal import ORIGIN
from tests.support.services import asgi_client, migrated_database, running


@pytest.fixture(scope="session")
async def applications_db(postgres: EmbeddedPostgres) -> str:
    return await migrated_database(postgres, "esign_applications_test", DEFINITION.migrations_dir)


@pytest.fixture(scope="session")
def test_ca(scratch_dir) -> LocalCA:
    """The renewal tests' PKI: a root, an intermediate and a CRL (esign/local_ca.py)."""
    return LocalCA.create(scratch_dir / "renewal-ca", label="esign test")


@pytest.fixture(scope="session")
def applications_settings(applications_db: str, nats_server: EmbeddedNats, test_ca: LocalCA) -> ApplicationsSettings:
    return ApplicationsSettings(
        database_url=applications_db,
        nats_url=nats_server.url,
        **APPLICATIONS_TEST_SETTINGS,
        relay_poll_interval=0.05,
        log_json=True,
        consumer_ack_wait=2.0,
        public_origin=ORIGIN,
        renewal_trust_dir=test_ca.trust_dir,
        renewal_crl_dir=test_ca.crl_dir,
        renewal_public_limit=10_000,  # the suite signs in often from one address; the limit has its own test
    )


@pytest.fixture(scope="session")
def applications_clock() -> SettableClock:
    return SettableClock()


@pytest.fixture(scope="session")
async def applications_app(applications_settings: ApplicationsSettings, applications_clock: SettableClock):
    async with running(create_app(applications_settings, clock=applications_clock)) as app:
        yield app


@pytest.fixture(scope="session")
async def client(applications_app) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(applications_app, "http://applications.test") as c:
        yield c


@pytest.fixture
async def inbox(nc: NATS) -> AsyncIterator[InvitationInbox]:
    box = InvitationInbox(nc)
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
def flow(client, auth, inbox) -> Flow:
    return Flow(client, auth, inbox)


@pytest.fixture(scope="module")
async def flow_module(client, auth, nc, test_ca):
    """A flow with its own invitation inbox for module-scoped fixtures (holders made once)."""
    box = InvitationInbox(nc)
    await box.start()

    class _Module:
        flow = Flow(client, auth, box)
        ca = test_ca

    yield _Module
    await box.stop()

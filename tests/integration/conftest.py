"""Several services in one test process, wired only through NATS JetStream as in production: each
with its own database and the lifespan running (relay, consumers, workers). They get a NATS server
of their own so the other suites' apps, which share durable consumer names, never take their messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client as NATS

from esign import jetstream
from esign.embedded import EmbeddedNats, EmbeddedPostgres
from services.applications.app import DEFINITION as APPLICATIONS
from services.applications.app import create_app as create_applications
from services.applications.config import ApplicationsSettings
from services.notifications.app import DEFINITION as NOTIFICATIONS
from services.notifications.app import create_app as create_notifications
from services.notifications.config import NotificationsSettings
from services.tracking.app import DEFINITION as TRACKING
from services.tracking.app import create_app as create_tracking
from services.tracking.config import TrackingSettings
from tests.support.applications import APPLICATIONS_TEST_SETTINGS, NOTIFICATIONS_PRIVATE
from tests.support.auth import JWT_SECRET
from tests.support.services import asgi_client, migrated_database, own_nats, running
from tests.support.tracking import WEBHOOK_SECRET


@pytest.fixture(scope="package")
def integration_nats(scratch_dir: Path) -> Iterator[EmbeddedNats]:
    with own_nats(scratch_dir, "integration") as server:
        yield server


@pytest.fixture(scope="package")
async def integration_nc(integration_nats: EmbeddedNats) -> AsyncIterator[NATS]:
    client = await jetstream.connect(integration_nats.url, name="integration-tests")
    yield client
    await client.close()


@asynccontextmanager
async def serving(app) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app), asgi_client(app) as client:
        yield client


@pytest.fixture(scope="package")
async def applications_client(
    postgres: EmbeddedPostgres, integration_nats: EmbeddedNats
) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApplicationsSettings(
        database_url=await migrated_database(postgres, "esign_applications_integration", APPLICATIONS.migrations_dir),
        nats_url=integration_nats.url,
        **APPLICATIONS_TEST_SETTINGS,
        relay_poll_interval=0.05,
        consumer_ack_wait=2.0,
    )
    async with serving(create_applications(settings)) as client:
        yield client


@pytest.fixture(scope="package")
async def tracking_client(
    postgres: EmbeddedPostgres, integration_nats: EmbeddedNats
) -> AsyncIterator[httpx.AsyncClient]:
    settings = TrackingSettings(
        database_url=await migrated_database(postgres, "esign_tracking_integration", TRACKING.migrations_dir),
        nats_url=integration_nats.url,
        jwt_secret=JWT_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        carrier="simulated",
        # The simulated courier moves each parcel a step every half second: delivered within seconds.
        simulated_step_seconds=0.5,
        relay_poll_interval=0.05,
        consumer_ack_wait=2.0,
    )
    async with serving(create_tracking(settings)) as client:
        yield client


@pytest.fixture(scope="package")
async def notifications_client(
    postgres: EmbeddedPostgres, integration_nats: EmbeddedNats
) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationsSettings(
        database_url=await migrated_database(postgres, "esign_notifications_integration", NOTIFICATIONS.migrations_dir),
        nats_url=integration_nats.url,
        jwt_secret=JWT_SECRET,
        seal_private_key=NOTIFICATIONS_PRIVATE,
        # No mail server: every e-mail stays queued (retried), which is what these tests look at.
        smtp_host="127.0.0.1",
        smtp_port=9,
        smtp_timeout=1,
        relay_poll_interval=0.05,
        consumer_ack_wait=2.0,
        delivery_poll_seconds=0.1,
    )
    async with serving(create_notifications(settings)) as client:
        yield client

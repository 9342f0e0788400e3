"""The tracking service under test: its own database, its own NATS server (so its consumer on
APPLICATIONS and its TRACKING events never mix with the applications service's tests), the app
with its lifespan running (relay, consumer, registration worker), and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client as NATS

from esign.embedded import EmbeddedPostgres
from services.tracking.app import DEFINITION, create_app
from services.tracking.config import TrackingSettings
from tests.support.auth import JWT_SECRET
from tests.support.clock import SettableClock
from tests.support.services import Backends, asgi_client, own_backends, running
from tests.support.tracking import WEBHOOK_SECRET, Shipments


@pytest.fixture(scope="package")
async def tracking_backends(postgres: EmbeddedPostgres, scratch_dir: Path) -> AsyncIterator[Backends]:
    async with own_backends(postgres, scratch_dir, DEFINITION, database="esign_tracking_test") as backends:
        yield backends


@pytest.fixture(scope="package")
def tracking_nc(tracking_backends: Backends) -> NATS:
    return tracking_backends.nc


@pytest.fixture(scope="package")
def clock() -> SettableClock:
    """Real time unless a test freezes it (rate-limit windows, stuck detection), so outcomes do
    not depend on when the test runs."""
    return SettableClock()


@pytest.fixture(scope="package")
def tracking_settings(tracking_backends: Backends) -> TrackingSettings:
    return TrackingSettings(
        database_url=tracking_backends.database_url,
        nats_url=tracking_backends.nats_url,
        jwt_secret=JWT_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        carrier="simulated",
        simulated_step_seconds=0,
        relay_poll_interval=0.05,
        consumer_ack_wait=2.0,
        stuck_check_seconds=3600,
        public_query_limit=5,
        public_query_window_seconds=600,
        public_query_number_limit=8,
        public_query_number_window_seconds=3600,
        # The test client's peer is 127.0.0.1: as a "proxy" it lets each test choose its client address.
        trusted_proxies=["127.0.0.1/32"],
        public_query_url="http://tracking.test/gonderi-sorgulama",
    )


@pytest.fixture(scope="package")
async def tracking_app(tracking_settings: TrackingSettings, clock: SettableClock):
    async with running(create_app(tracking_settings, clock=clock)) as app:
        yield app


@pytest.fixture(scope="package")
async def client(tracking_app) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(tracking_app, "http://tracking.test") as c:
        yield c


@pytest.fixture
def shipments(client, auth, tracking_nc) -> Shipments:
    return Shipments(client, auth, tracking_nc)

"""The tracking service under test: its own database, its own NATS server (so its consumer on
APPLICATIONS and its TRACKING events never mix with the applications service's tests), the app
with its lifespan running (relay, consumer, registration worker), and an HTTP client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client as NATS

from esign import jetstream, migrations
from esign.embedded import EmbeddedNats, EmbeddedPostgres
from services.tracking.app import DEFINITION, create_app
from services.tracking.config import TrackingSettings
from tests.support.applications import JWT_SECRET, Auth
from tests.support.tracking import WEBHOOK_SECRET, Clock, eventually, produced, publish


@pytest.fixture(scope="package")
def tracking_nats(scratch_dir: Path) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(scratch_dir / "nats-tracking").start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
async def tracking_nc(tracking_nats: EmbeddedNats) -> AsyncIterator[NATS]:
    client = await jetstream.connect(tracking_nats.url, name="tracking-tests")
    yield client
    await client.close()


@pytest.fixture(scope="package")
async def tracking_db(postgres: EmbeddedPostgres) -> str:
    url = postgres.ensure_database("esign_tracking_test")
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url)
    return url


@pytest.fixture(scope="package")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="package")
def tracking_settings(tracking_db: str, tracking_nats: EmbeddedNats) -> TrackingSettings:
    return TrackingSettings(
        database_url=tracking_db, nats_url=tracking_nats.url, jwt_secret=JWT_SECRET, webhook_secret=WEBHOOK_SECRET,
        carrier="simulated", simulated_step_seconds=0, relay_poll_interval=0.05, consumer_ack_wait=2.0,
        stuck_check_seconds=3600, public_query_limit=5, public_query_window_seconds=600,
        # The test client's peer is 127.0.0.1: as a "proxy" it lets each test choose its client address.
        trusted_proxies=["127.0.0.1/32"], public_query_url="http://tracking.test/gonderi-sorgulama",
    )


@pytest.fixture(scope="package")
async def tracking_app(tracking_settings: TrackingSettings, clock: Clock):
    app = create_app(tracking_settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="package")
async def client(tracking_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=tracking_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tracking.test") as c:
        yield c


@pytest.fixture(scope="package")
def auth() -> Auth:
    return Auth()


class Shipments:
    """Makes shipments the way production does (a certificate.produced event on NATS) and reads them back."""

    def __init__(self, client: httpx.AsyncClient, auth: Auth, nc: NATS) -> None:
        self.client, self.auth, self.js = client, auth, nc.jetstream()

    async def find(self, application_id: uuid.UUID) -> dict | None:
        r = await self.client.get("/v1/shipments", params={"application_id": str(application_id)},
                                  headers=self.auth.operator())
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return items[0] if items else None

    async def registered(self, application_id: uuid.UUID) -> dict:
        async def probe():
            found = await self.find(application_id)
            return found if found and found["tracking_number"] else None

        return await eventually(probe, what="the shipment to be registered")

    async def new(self, **kwargs) -> dict:
        event = produced(**kwargs)
        await publish(self.js, event)
        return await self.registered(event.application_id)

    async def detail(self, shipment_id: str) -> dict:
        r = await self.client.get(f"/v1/shipments/{shipment_id}", headers=self.auth.operator())
        assert r.status_code == 200, r.text
        return r.json()

    async def advance(self, tracking_number: str, **body) -> httpx.Response:
        return await self.client.post(f"/v1/ops/simulated-carrier/shipments/{tracking_number}/advance",
                                      json=body or None, headers=self.auth.operator())


@pytest.fixture
def shipments(client, auth, tracking_nc) -> Shipments:
    return Shipments(client, auth, tracking_nc)

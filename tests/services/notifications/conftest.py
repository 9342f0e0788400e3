"""The notifications service under test: its own migrated database and its own NATS server (so
the applications tests' events on the shared server never reach it), a real SMTP server, a real
HTTP SMS provider stub, and the app with its lifespan running (relay, consumers, delivery worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from esign import jetstream
from esign.embedded import EmbeddedPostgres
from services.notifications.app import DEFINITION, create_app
from services.notifications.config import NotificationsSettings
from tests.support.auth import JWT_SECRET
from tests.support.notifications import SEAL_PRIVATE, SmsProviderStub, SmtpServer
from tests.support.services import Backends, asgi_client, own_backends, running

RENEWAL_PAGE_URL = "https://esign.test.example/renew"  # not the default: the warnings must use the setting


@pytest.fixture(scope="session")
async def notifications_backends(postgres: EmbeddedPostgres, scratch_dir: Path) -> AsyncIterator[Backends]:
    async with own_backends(postgres, scratch_dir, DEFINITION, database="esign_notifications_test") as backends:
        yield backends


@pytest.fixture(scope="session")
async def notifications_js(notifications_backends: Backends):
    js = notifications_backends.nc.jetstream()
    for producer in ("applications", "tracking", "notifications"):
        await jetstream.ensure_stream(js, producer)
    return js


@pytest.fixture(scope="session")
def smtp() -> SmtpServer:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def sms_stub() -> AsyncIterator[SmsProviderStub]:
    stub = SmsProviderStub()
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture(scope="session")
def notifications_settings(notifications_backends: Backends, smtp, sms_stub) -> NotificationsSettings:
    return NotificationsSettings(
        database_url=notifications_backends.database_url,
        nats_url=notifications_backends.nats_url,
        jwt_secret=JWT_SECRET,
        seal_private_key=SEAL_PRIVATE,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_timeout=5,
        sms_provider="http",
        sms_http_url=sms_stub.url,
        sms_http_username="esign",
        sms_http_password="provider-pass",
        relay_poll_interval=0.05,
        consumer_ack_wait=2.0,
        delivery_poll_seconds=0.1,
        # Fast retries (same algorithm as production): outages in these tests last seconds.
        delivery_backoff_seconds=0.1,
        delivery_backoff_cap_seconds=0.5,
        delivery_max_attempts=40,
        delivery_lease_seconds=30,
        scheduler_interval_seconds=3600,
        renewal_page_url=RENEWAL_PAGE_URL,
    )


@pytest.fixture(scope="session")
async def notifications_app(notifications_settings, notifications_js):
    async with running(create_app(notifications_settings)) as app:
        yield app


@pytest.fixture(scope="session")
async def client(notifications_app) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(notifications_app, "http://notifications.test") as c:
        yield c


@pytest.fixture(scope="session")
def runtime(notifications_app):
    return notifications_app.state.runtime


@pytest.fixture
def deliveries_of(runtime):
    """Rows of the delivery log, filtered by any column."""
    from services.notifications.adapters.orm import deliveries

    async def query(**where):
        async with runtime.session_factory() as s:
            q = sa.select(deliveries).where(*(deliveries.c[k] == v for k, v in where.items()))
            return (await s.execute(q.order_by(deliveries.c.created_at))).all()

    return query

"""A real crash: the notifications service is SIGKILLed while its consumer works through a
backlog of events (SMTP down, so e-mails wait in the delivery log), then started again with the
SMTP server up. Nothing is lost and nothing is doubled: every event recorded once, every
delivery made once, every e-mail received once, one SMS file per SMS."""

from __future__ import annotations

import asyncio
import collections

import pytest
import sqlalchemy as sa

from esign import jetstream, migrations
from esign.db import make_engine
from esign.embedded import EmbeddedNats
from esign.events import ApplicationRejected, FormCompleted
from services.notifications.app import DEFINITION
from services.notifications.consumers import APPLICATIONS_CONSUMER
from tests.support.auth import JWT_SECRET
from tests.support.events import publish
from tests.support.notifications import SEAL_PRIVATE, Person, SmtpServer, eventually
from tests.support.service_process import ServiceProcess

COMPLETED, REJECTED = 300, 60


@pytest.fixture
def crash_nats(tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()
    yield server
    server.stop()


async def test_killed_mid_batch_loses_nothing_and_doubles_nothing(postgres, crash_nats, tmp_path):
    db_url = postgres.ensure_database("esign_notifications_crash")
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, db_url)
    nc = await jetstream.connect(crash_nats.url, name="crash-test")
    js = nc.jetstream()
    await jetstream.ensure_stream(js, "applications")
    people = [Person() for _ in range(COMPLETED + REJECTED)]
    for p in people[:COMPLETED]:
        await publish(
            js,
            FormCompleted(
                application_id=p.application_id,
                institution_id=p.institution_id,
                first_name=p.first_name,
                last_name=p.last_name,
                email=p.email,
            ),
            "applications",
        )
    for p in people[COMPLETED:]:
        await publish(
            js,
            ApplicationRejected(
                application_id=p.application_id,
                institution_id=p.institution_id,
                reason="İmza eksik",
                email=p.email,
                mobile=p.mobile,
                first_name=p.first_name,
                last_name=p.last_name,
            ),
            "applications",
        )
    smtp = SmtpServer()  # not started yet: the first life of the service finds it down
    sms_dir = tmp_path / "sms"
    env = {
        "DATABASE_URL": db_url,
        "NATS_URL": crash_nats.url,
        "JWT_SECRET": JWT_SECRET,
        "SEAL_PRIVATE_KEY": SEAL_PRIVATE,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_TIMEOUT": "2",
        "SMS_PROVIDER": "sink",
        "SMS_SINK_DIR": str(sms_dir),
        "CONSUMER_ACK_WAIT": "2",
        "RELAY_POLL_INTERVAL": "0.05",
        "DELIVERY_POLL_SECONDS": "0.1",
        "DELIVERY_BACKOFF_SECONDS": "0.2",
        "DELIVERY_BACKOFF_CAP_SECONDS": "1",
        "DELIVERY_MAX_ATTEMPTS": "1000",
        "DELIVERY_LEASE_SECONDS": "3",
        "SCHEDULER_INTERVAL_SECONDS": "3600",
    }
    engine = make_engine(db_url)

    async def scalar(sql: str) -> int:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(sql))).scalar_one()

    processed = f"SELECT count(*) FROM processed_events WHERE consumer = '{APPLICATIONS_CONSUMER}'"
    service = ServiceProcess("notifications", env, tmp_path / "notifications.log")
    try:
        service.start()
        # 50 is not a multiple of the consumer's fetch batch (20): the kill lands inside a batch,
        # with fetched messages handled, in flight and not yet handled.
        await eventually(lambda: _at_least(50, scalar(processed)), timeout=60, interval=0.01)
        service.kill9()
        at_kill = await scalar(processed)
        assert at_kill < len(people), "the consumer finished before the kill; the test proved nothing"

        smtp.start()
        service.start()  # its second life, on the same port
        expected = COMPLETED + 2 * REJECTED
        await eventually(
            lambda: _equals(expected, scalar("SELECT count(*) FROM deliveries WHERE status = 'sent'")),
            timeout=120,
            interval=0.2,
        )
    finally:
        service.stop()
        smtp.stop()
        await nc.close()

    assert await scalar(processed) == len(people)
    assert await scalar("SELECT count(*) FROM deliveries") == expected
    assert await scalar("SELECT count(*) FROM dead_letters") == 0
    received = collections.Counter(m["Message-ID"] for m in smtp.messages)
    assert len(received) == COMPLETED + REJECTED and set(received.values()) == {1}
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.messages) == sorted(p.email for p in people)
    sms_files = list(sms_dir.glob("*.txt"))
    assert len(sms_files) == REJECTED
    assert len((sms_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()) == REJECTED
    assert all("Gülşen Çağla" in f.read_text(encoding="utf-8") for f in sms_files)
    await engine.dispose()


async def _at_least(n, value):
    return (await value) >= n


async def _equals(n, value):
    return (await value) == n

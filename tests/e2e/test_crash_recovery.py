"""A real crash: the applications service is SIGKILLed while it issues and publishes hundreds of
invitations, then started again. Every invitation must reach the stream exactly once (none lost,
none doubled) and the outbox must drain."""

from __future__ import annotations

import asyncio
import collections
import json

import httpx
import pytest
import sqlalchemy as sa
from nats.js.api import ConsumerConfig, DeliverPolicy

from esign import migrations
from esign.db import make_engine
from services.applications.app import DEFINITION
from tests.support.applications import APPLICATIONS_TEST_SETTINGS, person, roster_csv
from tests.support.auth import Auth
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.e2e
PEOPLE = 300


def applications_settings(db_url: str, nats_url: str) -> dict[str, str]:
    """The environment of the service process (names without the ESIGN_APPLICATIONS_ prefix)."""
    shared = {name.upper(): str(value) for name, value in APPLICATIONS_TEST_SETTINGS.items()}
    return shared | {
        "DATABASE_URL": db_url,
        "NATS_URL": nats_url,
        "INVITATION_ISSUE_BATCH": "50",
        "RELAY_POLL_INTERVAL": "0.05",
    }


async def issued_invitations(js, institution: str) -> collections.Counter:
    sub = await js.subscribe(
        "applications.invitation.issued",
        stream="APPLICATIONS",
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    seen: collections.Counter = collections.Counter()
    try:
        while True:
            msg = await sub.next_msg(timeout=1.0)
            data = json.loads(msg.data)["data"]
            if data["institution_id"] == institution:  # the stream is shared with other tests
                seen[data["application_id"]] += 1
    except Exception:  # noqa: BLE001 - whatever ends the read ends the count
        pass
    await sub.unsubscribe()
    return seen


async def test_a_killed_service_loses_and_doubles_nothing(postgres, nats_server, nc, tmp_path):
    db_url = postgres.ensure_database("esign_crash_test")
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, db_url)
    settings = applications_settings(db_url, nats_server.url)
    service = ServiceProcess("applications", settings, tmp_path / "applications.log")
    await asyncio.to_thread(lambda: service.start().wait_ready())
    auth = Auth()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.port}", timeout=30) as client:
        r = await client.post("/v1/institutions", json={"name": "Çökme Üniversitesi"}, headers=auth.operator())
        institution = r.json()["id"]
        r = await client.post(
            f"/v1/institutions/{institution}/roster",
            content=roster_csv([person(5000 + n) for n in range(PEOPLE)]),
            headers={**auth.officer(institution), "Content-Type": "text/csv"},
        )
        assert r.json()["created"] == PEOPLE

    js = nc.jetstream()
    engine = make_engine(db_url)

    async def issued_in_db() -> int:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text("SELECT count(*) FROM invitations WHERE state = 'issued'"))).scalar_one()

    # Kill it in the middle of the work: some invitations issued, most not.
    for _ in range(600):
        if 0 < await issued_in_db() < PEOPLE:
            break
        await asyncio.sleep(0.02)
    service.kill9()
    at_kill = await issued_in_db()
    assert 0 < at_kill < PEOPLE, "the kill did not land mid-way"

    await asyncio.to_thread(lambda: service.start().wait_ready())
    for _ in range(600):
        if await issued_in_db() == PEOPLE:
            break
        await asyncio.sleep(0.1)
    for _ in range(100):  # and the relay has caught up
        async with engine.connect() as conn:
            unpublished = (
                await conn.execute(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
            ).scalar_one()
        if unpublished == 0:
            break
        await asyncio.sleep(0.1)
    service.kill9()
    await engine.dispose()

    seen = await issued_invitations(js, institution)
    assert unpublished == 0
    assert len(seen) == PEOPLE and set(seen.values()) == {1}, collections.Counter(seen.values())

"""The three services as they run, for hostile input and the fuzzer: each on its own migrated
database (the session's PostgreSQL), one NATS server of this package's own, served by uvicorn over
real HTTP on a free port. Background workers are off: what is under test is what the APIs answer.

``world`` seeds what the role tokens need to mean something: an institution with a staff list
(so an officer and an applicant token name real rows)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

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
from tests.support.applications import (
    APPLICATIONS_TEST_SETTINGS,
    person,
    roster_csv,
)
from tests.support.auth import JWT_SECRET, Auth
from tests.support.browser import served
from tests.support.notifications import SEAL_PRIVATE
from tests.support.services import migrated_database, own_nats, running
from tests.support.tracking import WEBHOOK_SECRET


@pytest.fixture(scope="package")
def hostile_nats(scratch_dir: Path) -> Iterator[EmbeddedNats]:
    with own_nats(scratch_dir, "hostile") as server:
        yield server


@pytest.fixture(scope="package")
async def base_urls(postgres: EmbeddedPostgres, hostile_nats: EmbeddedNats, scratch_dir: Path) -> AsyncIterator[dict]:
    async def db(name: str, definition) -> str:
        return await migrated_database(postgres, f"esign_{name}_hostile", definition.migrations_dir)

    common = {"nats_url": hostile_nats.url, "jwt_secret": JWT_SECRET, "run_background_workers": False}
    apps = {
        "applications": create_applications(
            ApplicationsSettings(
                database_url=await db("applications", APPLICATIONS), **(APPLICATIONS_TEST_SETTINGS | common)
            )
        ),
        "notifications": create_notifications(
            NotificationsSettings(
                database_url=await db("notifications", NOTIFICATIONS),
                seal_private_key=SEAL_PRIVATE,
                sms_sink_dir=scratch_dir / "hostile-sms",
                **common,
            )
        ),
        "tracking": create_tracking(
            TrackingSettings(
                database_url=await db("tracking", TRACKING),
                webhook_secret=WEBHOOK_SECRET,
                carrier="simulated",
                simulated_step_seconds=0,
                # The fuzzer sends many public queries from one address.
                public_query_limit=1_000_000,
                **common,
            )
        ),
    }
    async with AsyncExitStack() as stack:
        urls = {}
        for name, app in apps.items():
            await stack.enter_async_context(running(app))
            urls[name] = await stack.enter_async_context(served(app))
        yield urls


@dataclass(frozen=True)
class World:
    institution_id: uuid.UUID
    application_id: uuid.UUID
    auth: Auth

    def headers(self, role: str) -> dict[str, str]:
        """Authorization headers for ``operator``, ``officer``, ``applicant`` or ``anonymous``."""
        return {
            "operator": self.auth.operator,
            "officer": lambda: self.auth.officer(self.institution_id),
            "applicant": lambda: self.auth.applicant(self.application_id),
            "anonymous": dict,
        }[role]()


@pytest.fixture(scope="package")
async def world(base_urls: dict[str, str]) -> World:
    auth = Auth()
    async with httpx.AsyncClient(base_url=base_urls["applications"]) as client:
        r = await client.post("/v1/institutions", json={"name": "Fuzz Üniversitesi"}, headers=auth.operator())
        assert r.status_code == 201, r.text
        institution_id = uuid.UUID(r.json()["id"])
        r = await client.post(
            f"/v1/institutions/{institution_id}/roster",
            content=roster_csv([person(n, "fuzz.edu.tr") for n in range(1, 4)]),
            headers={**auth.officer(institution_id), "Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        r = await client.get("/v1/applications", params={"limit": 1}, headers=auth.officer(institution_id))
        application_id = uuid.UUID(r.json()["items"][0]["id"])
    return World(institution_id, application_id, auth)


@pytest.fixture
async def applications(base_urls) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_urls["applications"], timeout=30) as client:
        yield client


@pytest.fixture
async def notifications(base_urls) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_urls["notifications"], timeout=30) as client:
        yield client


@pytest.fixture
async def tracking(base_urls) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_urls["tracking"], timeout=30) as client:
        yield client

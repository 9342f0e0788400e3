"""A service without a database or NATS URL refuses to start, naming the setting, unless it was
asked for throwaway ones (``ESIGN_<SERVICE>_EPHEMERAL=true``): a deployment that forgot its
DATABASE_URL must stop, not run on an empty database that vanishes with the pod."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from esign.settings import NotConfigured
from services.notifications.config import NotificationsSettings
from services.tracking.app import create_app
from services.tracking.config import TrackingSettings
from tests.support.auth import JWT_SECRET, Auth
from tests.support.services import asgi_client, running


def _without_tracking_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ESIGN_TRACKING_")}


def test_a_service_process_without_urls_refuses_to_start_and_names_the_settings() -> None:
    """The way production starts it (uvicorn with the app factory), with no URL in its environment."""
    run = subprocess.run(
        [sys.executable, "-m", "uvicorn", "services.tracking.app:create_app", "--factory", "--port", "0"],
        env=_without_tracking_settings() | {"ESIGN_TRACKING_JWT_SECRET": JWT_SECRET},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0, run.stderr
    assert "ESIGN_TRACKING_DATABASE_URL and ESIGN_TRACKING_NATS_URL not set" in run.stderr, run.stderr
    assert "ESIGN_TRACKING_EPHEMERAL=true" in run.stderr
    assert "Application startup failed" in run.stderr  # the lifespan refused: nothing was served


async def test_a_database_url_alone_is_not_enough_the_nats_url_is_named(postgres) -> None:
    settings = TrackingSettings(
        database_url=postgres.url("postgres"), nats_url=None, ephemeral=False, jwt_secret=JWT_SECRET
    )
    with pytest.raises(NotConfigured) as refused:
        async with running(create_app(settings)):
            pass
    assert str(refused.value).startswith("ESIGN_TRACKING_NATS_URL not set: give the service its NATS server")


def test_the_setting_is_read_from_the_service_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per service, like every other setting: one service's EPHEMERAL does not make another throwaway."""
    monkeypatch.setenv("ESIGN_TRACKING_EPHEMERAL", "true")
    monkeypatch.delenv("ESIGN_NOTIFICATIONS_EPHEMERAL", raising=False)
    assert TrackingSettings().ephemeral is True
    assert NotificationsSettings().ephemeral is False


async def test_asked_for_throwaway_backends_the_service_starts_and_serves() -> None:
    """EPHEMERAL=true and no URL: its own embedded PostgreSQL and nats-server; ready (database and
    stream answer) and a query over the migrated tables served."""
    settings = TrackingSettings(ephemeral=True, jwt_secret=JWT_SECRET, simulated_step_seconds=0)
    assert settings.database_url is None and settings.nats_url is None
    async with running(create_app(settings)) as app, asgi_client(app, "http://tracking.test") as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        runtime = app.state.runtime
        assert runtime.nc.is_connected
        listed = await client.get("/v1/shipments", headers=Auth().operator())
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"] == []


def test_an_empty_url_in_the_environment_is_no_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ESIGN_TRACKING_DATABASE_URL=` (a template left unfilled) is refused like an unset one."""
    monkeypatch.setenv("ESIGN_TRACKING_DATABASE_URL", "")
    monkeypatch.setenv("ESIGN_TRACKING_NATS_URL", "nats://127.0.0.1:4222")
    monkeypatch.delenv("ESIGN_TRACKING_EPHEMERAL", raising=False)
    with pytest.raises(NotConfigured, match=r"^ESIGN_TRACKING_DATABASE_URL not set"):
        TrackingSettings().backend_urls()

"""`esign migrate` and `esign keys`: what a container or a Kubernetes pod runs before a service
starts, and what makes its Secret."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid

import jwt
import pytest
from nacl.public import PrivateKey

from esign import migrations
from esign.service_specs import SERVICES
from services.applications.config import ApplicationsSettings
from services.notifications.config import NotificationsSettings
from services.tracking.config import TrackingSettings

SETTINGS = {"applications": ApplicationsSettings, "notifications": NotificationsSettings, "tracking": TrackingSettings}


def esign(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "esign.cli", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_replicas_starting_together_migrate_once_and_all_succeed(postgres):
    """Three pods' init containers at the same moment on an empty database. Without the lock
    they race to create the same tables and all but one fail."""
    url = postgres.ensure_database(f"migrate_{uuid.uuid4().hex[:8]}")
    env = {"ESIGN_APPLICATIONS_DATABASE_URL": url}
    results = [finish(p) for p in [esign("migrate", "applications", env=env) for _ in range(3)]]

    assert [rc for rc, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    head = migrations.current(next(s for s in SERVICES if s.name == "applications").migrations_dir, url)
    assert head is not None
    assert all(out.strip() == f"applications: at {head}" for _, out, _ in results)


def test_migrate_all_and_again_changes_nothing(postgres):
    env = {
        f"{s.env_prefix}DATABASE_URL": postgres.ensure_database(f"all_{s.name}_{uuid.uuid4().hex[:6]}")
        for s in SERVICES
    }
    first, again = finish(esign("migrate", "--all", env=env)), finish(esign("migrate", "--all", env=env))

    assert first[0] == again[0] == 0, (first[2], again[2])
    assert first[1] == again[1]
    assert [line.split(":")[0] for line in first[1].splitlines()] == [s.name for s in SERVICES]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name the services to migrate, or --all"),
        (("billing",), "no such service: billing"),
        (("tracking",), "ESIGN_TRACKING_DATABASE_URL is not set"),
    ],
)
def test_migrate_refuses_what_it_cannot_do(args, message):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    proc = subprocess.run(
        [sys.executable, "-m", "esign.cli", "migrate", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert (proc.returncode, proc.stderr.strip()) == (2, f"esign: {message}")


def _keys() -> dict[str, str]:
    rc, out, err = finish(esign("keys"))
    assert rc == 0, err
    return dict(line.split("=", 1) for line in out.splitlines())


def test_keys_are_settings_the_services_read_and_fresh_each_time():
    keys, other = _keys(), _keys()

    for spec in SERVICES:
        mine = {k.removeprefix(spec.env_prefix): v for k, v in keys.items() if k.startswith(spec.env_prefix)}
        settings = SETTINGS[spec.name](**{k.lower(): v for k, v in mine.items()})
        assert mine and all(getattr(settings, k.lower()) is not None for k in mine)
    assert keys.keys() == other.keys()
    assert not set(keys.values()) & set(other.values())
    # Each secret goes only where it is used.
    assert [k for k in keys if k.endswith("SEAL_PRIVATE_KEY")] == ["ESIGN_NOTIFICATIONS_SEAL_PRIVATE_KEY"]
    assert [k for k in keys if k.endswith("WEBHOOK_SECRET")] == ["ESIGN_TRACKING_WEBHOOK_SECRET"]


def test_the_sealing_key_pair_matches():
    keys = _keys()
    private = PrivateKey(base64.b64decode(keys["ESIGN_NOTIFICATIONS_SEAL_PRIVATE_KEY"]))
    public = base64.b64decode(keys["ESIGN_APPLICATIONS_NOTIFICATIONS_PUBLIC_KEY"])
    assert bytes(private.public_key) == public


def test_token_signs_with_the_key_from_the_environment(tmp_path):
    keys = _keys()
    rc, out, err = finish(
        esign(
            "token",
            "--role",
            "ca_operator",
            "--data-dir",
            str(tmp_path),
            env={"ESIGN_JWT_SECRET": keys["ESIGN_JWT_SECRET"]},
        )
    )
    assert rc == 0, err
    claims = jwt.decode(out.strip(), keys["ESIGN_APPLICATIONS_JWT_SECRET"], algorithms=["HS256"], audience="esign")
    assert claims["esign_role"] == "ca_operator"
    assert not (tmp_path / "secrets.json").exists()  # nothing made locally

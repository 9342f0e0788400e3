"""End to end: the platform started the way `esign up` starts it (separate processes, embedded
PostgreSQL and NATS, persistent data dir), driven through HTTP like a newcomer following the
README, stopped with Ctrl-C, started again with its data intact."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from esign.embedded import free_port
from tests.support.applications import COMPLETE_FORM, person, roster_csv

pytestmark = pytest.mark.e2e
ESIGN = [sys.executable, "-m", "esign.cli"]


class Platform:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {"applications": free_port(), "notifications": free_port(), "tracking": free_port(),
                      "nats": free_port(), "smtp": free_port()}
        self.proc: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['applications']}"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.ports['nats']}"

    def up(self) -> list[str]:
        args = [f"--{name}-port={port}" for name, port in self.ports.items()]
        self.proc = subprocess.Popen([*ESIGN, "up", "--data-dir", str(self.data_dir), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("esign up exited early:\n" + "".join(lines))
            lines.append(line)
            if line.startswith("ready."):
                return lines
        raise AssertionError("esign up not ready:\n" + "".join(lines))

    def ctrl_c(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=60)
        return out

    def esign(self, *args: str) -> str:
        return subprocess.run([*ESIGN, *args, "--data-dir", str(self.data_dir)], check=True, capture_output=True,
                              text=True, timeout=60).stdout

    def token(self, role: str, **extra: str) -> dict[str, str]:
        flags = [f"--{k}={v}" for k, v in extra.items()]
        return {"Authorization": "Bearer " + self.esign("token", "--role", role, *flags).strip()}


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def platform():
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as its own user.
    with tempfile.TemporaryDirectory(prefix="esign-e2e-") as scratch:
        os.chmod(scratch, 0o755)
        p = Platform(Path(scratch) / "esign-data")
        yield p
        if p.proc and p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()


def test_first_application_through_the_running_platform(platform):
    banner = "".join(platform.up())
    assert f"applications   http://127.0.0.1:{platform.ports['applications']}" in banner
    api = httpx.Client(base_url=platform.api, timeout=30)
    operator = platform.token("ca_operator")

    institution = api.post("/v1/institutions", json={"name": "Uçtan Uca Üniversitesi"}, headers=operator).json()["id"]
    officer = platform.token("institution_officer", institution=institution, sub="nes.yetkilisi@uctan.edu.tr")
    r = api.post(f"/v1/institutions/{institution}/roster", content=roster_csv([person(1), person(2)]),
                 headers={**officer, "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["created"] == 2, r.text

    # The invitations, opened exactly as the notifications service opens them.
    invitations = []
    for _ in range(60):
        invitations = json.loads(platform.esign("invitations", "--json", "--nats-url", platform.nats_url))
        if len(invitations) == 2:
            break
        time.sleep(0.5)
    inv = next(i for i in invitations if i["email"] == "kisi1@ornek.edu.tr")
    assert inv["link"].startswith(platform.api) and "#token=" in inv["link"]

    session = api.post("/v1/applicant/sessions", json={"token": inv["link"].split("#token=")[1], "password": inv["password"]})
    applicant = {"Authorization": "Bearer " + session.json()["access_token"]}
    assert api.patch("/v1/applicant/application/form", json=COMPLETE_FORM, headers=applicant).status_code == 200
    assert api.put("/v1/applicant/application/security-word", json={"security_word": "Kelebek42"}, headers=applicant).status_code == 200
    assert api.post("/v1/applicant/application/completion", headers=applicant).json()["status"] == "form_completed"
    pdf = api.get("/v1/applicant/application/form.pdf", headers=applicant)
    assert pdf.content.startswith(b"%PDF")

    app_id = inv["application_id"]
    api.post(f"/v1/applications/{app_id}/signed-form", json={"channel": "cargo_or_post", "received_on": "2026-01-05",
                                                            "reference": "YK-998877"}, headers=officer).raise_for_status()
    api.post(f"/v1/institutions/{institution}/batches", json={"application_ids": [app_id]}, headers=officer).raise_for_status()
    produced = api.post(f"/v1/applications/{app_id}/production", headers=operator, json={
        "certificate_serial": "7F:01:AA", "not_before": "2026-01-10T00:00:00+03:00", "not_after": "2029-01-10T00:00:00+03:00"})
    assert produced.json()["status"] == "produced"

    # The courier hands the card over: a tracking event on the stream moves the application.
    subprocess.run([sys.executable, "-c", _PUBLISH_HANDED_OVER, platform.nats_url, app_id], check=True, timeout=60)
    for _ in range(100):
        status = api.get(f"/v1/applications/{app_id}", headers=officer).json()["status"]
        if status == "shipped":
            break
        time.sleep(0.2)
    assert status == "shipped"

    out = platform.ctrl_c()
    assert "stopped." in out and platform.proc.returncode == 0
    for name in ("applications", "nats", "smtp"):
        assert not port_open(platform.ports[name]), f"{name} still listening"

    # Started again: the data is still there.
    platform.up()
    again = httpx.get(f"{platform.api}/v1/applications/{app_id}", headers=officer, timeout=30).json()
    assert again["status"] == "shipped" and again["person"]["email"] == "kisi1@ornek.edu.tr"
    platform.ctrl_c()


# Runs in its own process, as another service would publish.
_PUBLISH_HANDED_OVER = """
import asyncio, sys, uuid
from datetime import datetime, timezone
from esign.events import Envelope, ShipmentHandedToCourier
from esign.jetstream import connect, ensure_stream

async def main(url, application_id):
    nc = await connect(url, "e2e-tracking")
    js = nc.jetstream()
    await ensure_stream(js, "tracking")
    env = Envelope.wrap(ShipmentHandedToCourier(shipment_id=uuid.uuid4(), application_id=uuid.UUID(application_id),
        tracking_number="YK123", carrier="simulated", occurred_at=datetime.now(timezone.utc)), "tracking")
    await js.publish(env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(env.id)})
    await nc.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

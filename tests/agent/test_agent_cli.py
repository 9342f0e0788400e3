"""The installed command, as a holder's workstation runs it: ``esign-agent run`` and ``doctor``."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from .helpers import ORIGIN, TIMEOUT, Client, sign_fields

COMMAND = Path(sys.executable).with_name("esign-agent")


@pytest.fixture(scope="module")
def command() -> str:
    if not COMMAND.exists():
        pytest.fail(f"{COMMAND} is missing: install the agent (pip install -e ./agent)")
    return str(COMMAND)


async def test_run_serves_pages_with_settings_from_file_environment_and_command_line(command, softhsm, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('card_types = ["softhsm"]\npoll_interval = 0.2\n')
    env = {**os.environ, "ESIGN_AGENT_CONFIG": str(config), "ESIGN_AGENT_ALLOW_ORIGINS": ORIGIN}
    proc = await asyncio.create_subprocess_exec(command, "run", "--port", "0", env=env, stderr=asyncio.subprocess.PIPE)
    try:
        port, log = None, []
        while port is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), TIMEOUT)).decode()
            assert line, "".join(log)
            log.append(line)
            if match := re.search(r"listening on ws://127\.0\.0\.1:(\d+)", line):
                port = int(match[1])
        async with connect(f"ws://127.0.0.1:{port}", origin=ORIGIN, subprotocols=["esign-agent.v1"]) as ws:
            page = Client(ws)
            assert (await page.ok("hello"))["card_types"][0]["id"] == "softhsm"
            assert {t["label"] for t in (await page.ok("list_tokens"))["tokens"]} == {
                "esign-test",
                "esign-spare",
            }
            assert (await page.ok("sign", **sign_fields(softhsm.main)))["signature"]
            page._reader.cancel()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
        rest = (await proc.stderr.read()).decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log_text = "".join(log) + rest
    assert f"origin={ORIGIN} op=sign result=OK cert={softhsm.main.fp('ec-p256')}" in log_text
    assert softhsm.main.pin not in log_text


def test_doctor_command_reports_ready_cards(command, softhsm):
    result = subprocess.run(
        [command, "doctor", "--card-type", "softhsm", "--allow-origin", ORIGIN, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 card(s) ready to sign." in result.stdout
    assert "100******46" in result.stdout

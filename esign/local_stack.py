"""`esign up`: the whole platform on one machine, for newcomers and end-to-end tests.

Starts (unless URLs are configured) an embedded PostgreSQL and a NATS server with JetStream,
migrates each service's database, starts a mail catcher and every service that exists as its
own process, exactly as they run in production (uvicorn, configured by environment), and in
front of them Debian's nginx on one port, configured from the route table the production Ingress
is checked against (``esign/routes.py``), so pages and APIs share one origin as in production.
Data lives in one directory and survives restarts; Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from esign import migrations, routes
from esign.embedded import EmbeddedNats, EmbeddedPostgres
from esign.keys import load_secrets, service_keys
from esign.local_ca import LocalCA
from esign.mailcatcher import MailCatcher
from esign.service_specs import SERVICES, ServiceSpec

NGINX = Path("/usr/sbin/nginx")  # Debian's package `nginx` (scripts/install-system-packages)


class LocalProxy:
    """Debian's nginx as an unprivileged child process, with a configuration generated from the
    route table into the data directory (rewritten at each start)."""

    def __init__(self, run_dir: Path, config: str) -> None:
        self.run_dir = run_dir
        self.config = config
        self._proc: subprocess.Popen | None = None

    def start(self) -> LocalProxy:
        if not NGINX.exists():
            raise RuntimeError("nginx is missing: `make up` installs it (apt install nginx)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(self.config)
        # -e: the error log before the configuration is read (the default, /var/log, is root's).
        command = [str(NGINX), "-p", str(self.run_dir), "-e", str(self.run_dir / "error.log"), "-c", str(conf)]
        check = subprocess.run([*command, "-t", "-q"], check=False, capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its generated configuration {conf}: {check.stderr.strip()}")
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    @property
    def exited(self) -> bool:
        return self._proc is not None and self._proc.poll() is not None

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGQUIT)  # nginx's graceful shutdown
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


class LocalStack:
    def __init__(
        self,
        data_dir: Path,
        host: str,
        ports: dict[str, int],
        nats_port: int,
        smtp_port: int,
        out: Callable[[str], object] = print,
        *,
        port: int = 8000,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.host = host
        self.port = port  # the one origin (nginx)
        self.ports = ports
        self.nats_port = nats_port
        self.smtp_port = smtp_port
        self.out = out
        self._pg: EmbeddedPostgres | None = None
        self._nats: EmbeddedNats | None = None
        self._mail: MailCatcher | None = None
        self._proxy: LocalProxy | None = None
        self._procs: dict[str, subprocess.Popen] = {}
        self._databases: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        keys = load_secrets(self.data_dir)
        nats_url = os.environ.get("ESIGN_NATS_URL")
        if not nats_url:
            self._nats = EmbeddedNats(self.data_dir / "nats", port=self.nats_port).start()
            nats_url = self._nats.url
        self._mail = MailCatcher(self.data_dir / "mail", self.host, self.smtp_port, announce=self.out).start()
        # The trust anchor of local renewals: `esign renewal-card` issues card certificates from it.
        LocalCA.open_or_create(self.local_ca_dir)
        services = [s for s in SERVICES if s.available]
        for spec in services:
            db_url = os.environ.get(f"{spec.env_prefix}DATABASE_URL")
            if not db_url:
                if self._pg is None:
                    self._pg = EmbeddedPostgres(self.data_dir / "postgres", persistent=True).start()
                db_url = self._pg.ensure_database(f"esign_{spec.name}")
            service_settings = self._service_settings(spec.name, keys)
            # A migration may need the service's keys (encrypting rows stored before).
            migrations.upgrade(
                spec.migrations_dir,
                db_url,
                settings={spec.env_prefix + k: v for k, v in service_settings.items()},
            )
            self._databases[spec.name] = db_url
            settings = {
                "DATABASE_URL": db_url,
                "NATS_URL": nats_url,
                "PORT": str(self.ports[spec.name]),
                **service_settings,
            }
            env = {**os.environ, **{spec.env_prefix + k: v for k, v in settings.items()}}
            log = open(self.data_dir / f"{spec.name}.log", "ab")  # noqa: SIM115 - the child process owns it
            self._procs[spec.name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    f"services.{spec.name}.app:create_app",
                    "--factory",
                    "--host",
                    self.host,
                    "--port",
                    str(self.ports[spec.name]),
                    "--no-access-log",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for spec in services:
            self._wait_ready(spec)
        config = routes.nginx_config(
            listen=f"{self.host}:{self.port}",
            upstreams={spec.name: f"{self.host}:{self.ports[spec.name]}" for spec in services},
            run_dir=self.data_dir / "nginx",
            sign_in_service=routes.SIGN_IN_SERVICE,
            docs_services=[spec.name for spec in services],
            ops_services=[spec.name for spec in services],
        )
        self._proxy = LocalProxy(self.data_dir / "nginx", config).start()
        self._wait_proxy(self._proxy)
        self.out(f"{'esign':<14} {self.url}  (pages, APIs and docs on one origin: {self.url}/docs/<service>/)")
        for spec in services:
            self.out(
                f"{spec.name:<14} http://{self.host}:{self.ports[spec.name]}  "
                f"(docs /docs, log {self.data_dir / (spec.name + '.log')})"
            )
        self.out(f"{'nats':<14} {nats_url}")
        self.out(f"{'mail catcher':<14} smtp://{self._mail.address}  (messages in {self.data_dir / 'mail'})")
        self.out(f"{'sms sink':<14} {self.data_dir / 'sms'}")
        self.out(f"{'data':<14} {self.data_dir}")
        # Where `esign renewal-card` finds a produced application (owner-only: URLs may hold passwords).
        databases = self.data_dir / "databases.json"
        databases.write_text(json.dumps(self._databases))
        databases.chmod(0o600)
        # Where `esign renewal-card` learns the origin the agent must allow (the renewal page's).
        (self.data_dir / "origin").write_text(self.url)
        self.out("ready. Ctrl-C stops everything.")

    @property
    def local_ca_dir(self) -> Path:
        return self.ca_dir_of(self.data_dir)

    @staticmethod
    def ca_dir_of(data_dir: Path) -> Path:
        return data_dir / "local-ca"

    def _service_settings(self, name: str, keys: dict[str, str]) -> dict[str, str]:
        """What each service needs beyond the common settings; each secret goes only where used."""
        return service_keys(keys).get(name, {}) | {
            "applications": {
                # Every link and the origin card sign-ins are bound to lead to the one origin, as
                # in production: the pages are reached through the proxy, not the service's port.
                "PORTAL_URL": f"{self.url}/apply",
                "PUBLIC_ORIGIN": self.url,
                "RENEWAL_FORM_URL": f"{self.url}/renew/form",
                "RENEWAL_TRUST_DIR": str(self.local_ca_dir / "trust"),
                "RENEWAL_CRL_DIR": str(self.local_ca_dir / "crl"),
            },
            "notifications": {
                "SMTP_HOST": self.host,
                "SMTP_PORT": str(self.smtp_port),
                "SMS_PROVIDER": "sink",
                "SMS_SINK_DIR": str(self.data_dir / "sms"),
                "SHIPMENT_QUERY_URL": f"{self.url}/gonderi-sorgulama",
                "RENEWAL_PAGE_URL": f"{self.url}/renew",
            },
            "tracking": {
                "PUBLIC_QUERY_URL": f"{self.url}/gonderi-sorgulama",
            },
        }.get(name, {})

    def _wait_ready(self, spec: ServiceSpec, timeout: float = 60) -> None:
        url = f"http://{self.host}:{self.ports[spec.name]}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._procs[spec.name].poll() is not None:
                raise RuntimeError(f"{spec.name} exited; see {self.data_dir / (spec.name + '.log')}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{spec.name} not ready after {timeout}s; see {self.data_dir / (spec.name + '.log')}")

    def _wait_proxy(self, proxy: LocalProxy, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proxy.exited:
                raise RuntimeError(f"nginx exited; see {self.data_dir / 'nginx' / 'error.log'}")
            try:
                httpx.get(f"{self.url}/", timeout=1)  # any answer (the 404 of /) means it listens
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError(f"nginx not answering on {self.url}; see {self.data_dir / 'nginx' / 'error.log'}")

    def stop(self) -> None:
        if self._proxy:
            self._proxy.stop()
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        if self._mail:
            self._mail.stop()
        if self._nats:
            self._nats.stop()
        if self._pg:
            self._pg.stop()

    def wait(self) -> None:
        """Blocks until a signal arrives or a service dies."""
        stopping = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.append(True))
        while not stopping:
            if self._proxy and self._proxy.exited:
                self.out(f"nginx exited; stopping (see {self.data_dir / 'nginx' / 'error.log'})")
                return
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    self.out(f"{name} exited with {proc.returncode}; stopping (see {self.data_dir / (name + '.log')})")
                    return
            time.sleep(0.3)

"""A service as its own process, the way production and `esign up` run it: uvicorn with the app
factory and the service's prefixed environment, on a free port, its log to a file; started,
awaited ready, SIGKILLed and started again by the crash and fault tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from esign.embedded import free_port, stop_process


def wait_until(what: str, probe: Callable[[], object], timeout: float = 120, every: float = 0.1) -> object:
    """Polls ``probe`` until it returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def sigkill(proc: subprocess.Popen | None) -> None:
    """A crash, not a stop: SIGKILL (nothing flushed, nothing cleaned up) and reap it."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


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
        sigkill(self.proc)

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc, timeout=20)

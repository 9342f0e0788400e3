"""What every benchmark shares: the embedded servers, a service started the way `esign up` starts
it (uvicorn in its own process), the `wrk` load generator, and the result row every script prints.

Every figure is a ratio against a baseline measured in the same run, with rounds alternating
between the two, so that a shared or throttled machine slows both alike. A benchmark's spread is
the range of its per-round ratios.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from esign import migrations
from esign.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from esign.field_crypto import FieldCipher, FieldKeys
from services.applications.adapters.personal_data import PeopleCodec

ROOT = Path(__file__).resolve().parent.parent

# The keys that encrypt the TC Kimlik No and birth date at rest (docs/personal-data.md): one set per
# bench run, given to the services, the baselines and the units of work the benchmarks open.
FIELD_KEYS, FIELD_LOOKUP_KEY = FieldKeys.generate("bench")


def people_codec() -> PeopleCodec:
    return PeopleCodec(FieldCipher(FieldKeys.parse(FIELD_KEYS, FIELD_LOOKUP_KEY)))


@dataclass
class Result:
    """One line of the table: ``ours`` against ``baseline`` in the same unit; ``higher_is_better``
    says which way the ratio ours/baseline must go to meet ``target``."""

    name: str
    baseline: float
    ours: float
    unit: str
    target: float
    higher_is_better: bool
    per_round: list[float] = field(default_factory=list)  # ratios of the individual rounds
    note: str = ""
    limit: float | None = None  # an absolute bound on ``ours`` instead of a ratio (memory)

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def passed(self) -> bool:
        if self.limit is not None:
            return self.ours <= self.limit
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    @property
    def target_text(self) -> str:
        if self.limit is not None:
            return f"<= {self.limit:g} {self.unit}"
        return f"{'>=' if self.higher_is_better else '<='} {self.target:g}x"

    @property
    def spread(self) -> str:
        if len(self.per_round) < 2:
            return ""
        return f"{min(self.per_round):.2f}-{max(self.per_round):.2f}"


def ratio_result(
    name: str,
    baseline: Sequence[float],
    ours: Sequence[float],
    *,
    unit: str,
    target: float,
    higher_is_better: bool,
    note: str = "",
) -> Result:
    """Medians of interleaved rounds; the spread is the range of the rounds' own ratios."""
    per_round = [o / b for o, b in zip(ours, baseline, strict=True) if b]
    return Result(
        name,
        statistics.median(baseline),
        statistics.median(ours),
        unit,
        target,
        higher_is_better,
        per_round,
        note,
    )


HEADER = f"{'benchmark':<44} {'baseline':>14} {'ours':>14} {'ratio':>7} {'spread':>11} {'target':>11}  result"


async def interleaved_seconds(
    rounds: int, baseline: Callable[[], Awaitable[float]], ours: Callable[[], Awaitable[float]]
) -> tuple[list[float], list[float]]:
    """Runs the two measurements ``rounds`` times, alternating which goes first (so neither always
    meets a warm or a cold machine), and returns their figures in milliseconds."""
    baseline_ms: list[float] = []
    ours_ms: list[float] = []
    order = [(baseline_ms, baseline), (ours_ms, ours)]
    for n in range(rounds):
        for figures, measure in order if n % 2 == 0 else reversed(order):
            figures.append(await measure() * 1000)
    return baseline_ms, ours_ms


def format_row(r: Result) -> str:
    def figure(value: float) -> str:
        return f"{value:,.1f} {r.unit}" if value < 1e5 else f"{value:,.0f} {r.unit}"

    line = (
        f"{r.name:<44} {figure(r.baseline):>14} {figure(r.ours):>14} {r.ratio:>6.2f}x {r.spread:>11} "
        f"{r.target_text:>11}  {'pass' if r.passed else 'FAIL'}"
    )
    return line + (f"  ({r.note})" if r.note else "")


def print_results(results: Sequence[Result]) -> None:
    print(HEADER)
    for r in results:
        print(format_row(r), flush=True)


def exit_code(results: Sequence[Result]) -> int:
    return 0 if all(r.passed for r in results) else 1


def run_and_report(benchmark: Coroutine[Any, Any, list[Result]]) -> int:
    """What every script's main ends with: run it, print its table, exit non-zero on a miss."""
    results = asyncio.run(benchmark)
    print_results(results)
    return exit_code(results)


# --------------------------------------------------------------------------- servers


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="esign-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded PostgreSQL may run as another user
        yield Path(tmp)


@contextmanager
def embedded_postgres(scratch: Path) -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(scratch / "pg", persistent=False).start()
    try:
        yield pg
    finally:
        pg.stop()


@contextmanager
def embedded_nats(scratch: Path) -> Iterator[EmbeddedNats]:
    nats = EmbeddedNats(scratch / "nats").start()
    try:
        yield nats
    finally:
        nats.stop()


async def migrated(pg: EmbeddedPostgres, database: str, migrations_dir: Path) -> str:
    url = pg.ensure_database(database)
    await asyncio.to_thread(migrations.upgrade, migrations_dir, url)
    return url


@dataclass
class Server:
    """An HTTP server in its own process (uvicorn, as `esign up` and the image run it)."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float:
        """Resident memory of the server process, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far, from /proc (the load-robust
        measure: what a request costs the server, whatever else the machine runs)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serving(servers: dict[str, Server]) -> Iterator[dict[str, Server]]:
    """Stops every server on the way out (``servers`` may still be filled inside). When the
    benchmark gives up (SystemExit), their logs' tails are printed first: what went wrong is there."""
    try:
        yield servers
    except SystemExit:
        for server in servers.values():
            print(f"--- {server.name} log (tail)", server.log.read_text()[-2000:], sep="\n", file=sys.stderr)
        raise
    finally:
        for server in servers.values():
            server.stop()


def launch_uvicorn(name: str, app: str, env: dict[str, str], scratch: Path) -> Server:
    """``uvicorn <app> --factory`` with the settings `esign up` uses (see ``wait_ready``)."""
    port = free_port()
    log = scratch / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return Server(name, process, port, log)


def wait_ready(servers: Sequence[Server], ready_path: str = "/livez", timeout: float = 120) -> None:
    """Waits until every server answers (they start side by side: start-up is mostly imports)."""
    deadline = time.monotonic() + timeout
    waiting = list(servers)
    while waiting:
        server = waiting[0]
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            if httpx.get(server.url + ready_path, timeout=1).status_code == 200:
                waiting.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{server.name} did not become ready:\n{server.log.read_text()[-3000:]}")
        time.sleep(0.2)


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p99_ms: float
    non_2xx: int
    requests: int = 0


_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
"""


def _lua_string(value: str | None) -> str:
    if value is None:
        return "nil"
    return "[==[" + value + "]==]"


def _ms(figure: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", figure).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: str | None = None,
) -> Load:
    """Drives ``url`` with Debian's wrk (one thread: the machine has two cores and the server
    needs one); the Lua script carries the method, body and headers (e.g. Authorization)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: ./scripts/install-system-packages bench")
    header_lines = "\n".join(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in (headers or {}).items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT.format(method=_lua_string(method), body=_lua_string(body), headers=header_lines))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if errors and re.search(r"[1-9]", errors[1]):
        raise SystemExit(f"wrk saw socket errors against {url}: {errors[1]}")
    requests = int(re.search(r"(\d+) requests in", out)[1])
    return Load(rps, p99, int(non_2xx[1]) if non_2xx else 0, requests)


def check_answers(load: Load, what: str) -> Load:
    """A benchmark of error answers would measure the wrong thing."""
    if load.non_2xx:
        raise SystemExit(f"{what}: {load.non_2xx} answers were not 2xx")
    return load

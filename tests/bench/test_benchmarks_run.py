"""Every benchmark of issue 13 still runs end to end (at a tiny size, so in seconds): its servers
start, its load runs, and it prints its row of the table. The figures of a smoke run mean
nothing; `make bench` is where they are measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import HEADER
from bench.run_all import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]

ROWS = {
    "http_api": ["GET /v1/applications/{id}: req/s", "POST /v1/public/shipment-queries", "memory: notifications idle"],
    "events": ["events: outbox->consumer throughput", "events: p99 commit->consumer"],
    "roster_import": ["staff-list import, 50 rows"],
    "invitations": ["invitations: 30 issued+published"],
    "expiry_sweep": ["expiry sweep, 5,000 certs", "expiry sweep: reminders published"],
    "agent_sign": ["agent sign RSA_PKCS1_SHA256 (vs floor)"],
}


def test_every_benchmark_has_a_smoke_check():
    assert set(ROWS) == set(BENCHMARKS)


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_benchmark_runs_and_prints_its_rows(name):
    done = subprocess.run(
        [sys.executable, "-m", "bench.run_all", "--smoke", "--only", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 0: every target met, 1: some missed (tiny sizes prove nothing either way); anything else crashed.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-5000:]
    table = done.stdout.split(HEADER, 1)[1]
    for row in ROWS[name]:
        lines = [line for line in table.splitlines() if line.startswith(row)]
        assert len(lines) == 1 and (" pass" in lines[0] or " FAIL" in lines[0]), (row, table)

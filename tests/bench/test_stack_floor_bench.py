"""bench/stack_floor.py runs end to end at a tiny size: every rung of both ladders answers 2xx
(the benchmark fails on any other answer) and prints its row. Its figures mean nothing at this
size; docs/benchmarks.md has them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.harness import HEADER
from bench.stack_floor import PAGE_RUNGS, QUERY_RUNGS, READ_RUNGS

ROOT = Path(__file__).parents[2]


def test_the_stack_floor_runs_every_rung_and_prints_its_row():
    done = subprocess.run(
        [sys.executable, "-m", "bench.stack_floor", "--rounds", "1", "--seconds", "0.5", "--rows", "20"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    # 0: every row met its target, 1: some did not (tiny sizes prove nothing); anything else crashed.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-5000:]
    table = done.stdout.split(HEADER, 1)[1]
    rows = [f"GET /applications/{{id}} floor: {r}" for r in [*READ_RUNGS, "service"]]
    rows += [f"GET /applications (50 rows) floor: {r}" for r in [*PAGE_RUNGS, "service"]]
    rows += [f"POST shipment query floor: {r}" for r in [*QUERY_RUNGS, "service"]]
    for row in rows:
        lines = [line for line in table.splitlines() if line.startswith(row + " ")]
        assert len(lines) == 1 and (" pass" in lines[0] or " FAIL" in lines[0]), (row, table)

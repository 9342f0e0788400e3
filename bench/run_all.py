"""``make bench``: every benchmark of issue 13 in one run, then one table (benchmark, baseline,
ours, ratio, spread of the rounds' ratios, target, pass/fail) and the machine it ran on.

    .venv/bin/python -m bench.run_all [--only NAME ...] [--smoke]

``--smoke`` runs each at a tiny size (what tests/bench runs, so no benchmark can rot); its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import agent_sign, events, expiry_sweep, http_api, invitations, roster_import
from bench.harness import HEADER, Result, exit_code, format_row

Run = Callable[..., Coroutine[Any, Any, list[Result]]]

# name -> (run, full size, smoke size). The full sizes keep `make bench` under ten minutes on two cores.
BENCHMARKS: dict[str, tuple[Run, dict[str, Any], dict[str, Any]]] = {
    "http_api": (
        http_api.run,
        {"rounds": 3, "seconds": 3, "rows": 500},
        {"rounds": 1, "seconds": 1, "rows": 60},
    ),
    "events": (events.run, {"events": 2000, "seconds": 6, "rounds": 2}, {"events": 50, "seconds": 1, "rounds": 1}),
    "roster_import": (roster_import.run, {"rows": 10_000, "rounds": 3}, {"rows": 50, "rounds": 1}),
    "invitations": (invitations.run, {"rows": 10_000, "rounds": 2}, {"rows": 30, "rounds": 1}),
    "expiry_sweep": (expiry_sweep.run, {"certificates": 1_000_000, "rounds": 2}, {"certificates": 5000, "rounds": 1}),
    "agent_sign": (agent_sign.run, {"rounds": 300}, {"rounds": 5}),
}


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem_kib / 1024 / 1024:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"load average at the start {load[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that every benchmark still runs")
    args = parser.parse_args(argv)
    description = machine()
    results: list[Result] = []
    started = time.monotonic()
    for name, (run, full, smoke) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        began = time.monotonic()
        found = asyncio.run(run(**(smoke if args.smoke else full)))
        for r in found:
            print(format_row(r), flush=True)
        print(f"   ({time.monotonic() - began:.0f} s)", flush=True)
        results += found
    print()
    print(f"machine: {description}")
    print(f"total time: {time.monotonic() - started:.0f} s")
    print(HEADER)
    for r in results:
        print(format_row(r))
    failed = [r.name for r in results if not r.passed]
    print(f"{len(results) - len(failed)} of {len(results)} targets met")
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())

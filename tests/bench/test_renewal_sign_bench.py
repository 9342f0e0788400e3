"""bench/renewal_sign.py runs end to end at a tiny size (its figures are for people, not asserts):
a real SoftHSM2 token signs both the server's prepared attributes and pyHanko's local signature,
and every server-side renewal validates. In its own process, as people run it (SoftHSM2 sees only
the tokens that existed when a process first loaded it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_renewal_bench_runs_and_prints_its_ratio():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "renewal_sign.py"), "--rounds", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ratio = re.search(r"ratio server/local\s+([0-9.]+)", done.stdout)
    rate = re.search(r"verified renewals/s, one core\s+([0-9.]+)", done.stdout)
    assert ratio and float(ratio.group(1)) > 0, done.stdout
    assert rate and float(rate.group(1)) > 0, done.stdout

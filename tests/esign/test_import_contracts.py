"""The import contracts of `make check` (pyproject.toml, [tool.importlinter]) are relied on only
because each one is seen to fail: here every contract meets one deliberate violation, planted in a
temporary copy of the tree, and must report it as BROKEN while the other contracts stay KEPT."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # the `check` extra's pinned one

DOMAIN = "The domain imports no framework: neither FastAPI nor SQLAlchemy"
INDEPENDENT = "Services never import each other (they talk through events and HTTP)"
API = "The API layer reaches tables only through repositories: no adapters.orm, no SQLAlchemy"
HANDLERS = "Handlers know no HTTP: no FastAPI"
AGENT = "The signing agent runs on workstations without the server: nothing from esign or services"
CONTRACTS = {DOMAIN, INDEPENDENT, API, HANDLERS, AGENT}

# contract -> (file in the copy, the line planted at its top)
VIOLATIONS = {
    DOMAIN: ("services/tracking/domain/shipment.py", "import sqlalchemy"),
    INDEPENDENT: ("services/tracking/handlers/shipments.py", "import services.notifications.config"),
    API: ("services/tracking/api/operator.py", "from services.tracking.adapters import orm"),
    HANDLERS: ("services/applications/handlers/review.py", "import fastapi"),
    AGENT: ("esign_agent/config.py", "import esign.masking"),
}


def _copy_tree(destination: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "static", "templates", "migrations")
    shutil.copy2(ROOT / "pyproject.toml", destination / "pyproject.toml")
    shutil.copytree(ROOT / "esign", destination / "esign", ignore=ignore)
    shutil.copytree(ROOT / "services", destination / "services", ignore=ignore)
    # The agent's package sits at the top, as it does on the agent's own sys.path.
    shutil.copytree(ROOT / "agent" / "esign_agent", destination / "esign_agent", ignore=ignore)


def _plant(tree: Path, relative: str, line: str) -> None:
    path = tree / relative
    # After the module docstring and `from __future__`, which must stay first.
    source = path.read_text(encoding="utf-8")
    future = "from __future__ import annotations\n"
    assert future in source, f"{relative}: the planting spot moved"
    path.write_text(source.replace(future, future + line + "\n", 1), encoding="utf-8")


def _verdicts(tree: Path) -> dict[str, str]:
    # PYTHONPATH first, so the copy is analysed rather than the editable install of the real tree.
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "300"}
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    verdicts = dict(re.findall(r"^(.+) (KEPT|BROKEN)$", run.stdout, flags=re.MULTILINE))
    assert set(verdicts) == CONTRACTS, run.stdout + run.stderr
    assert (run.returncode == 0) == all(v == "KEPT" for v in verdicts.values()), run.stdout
    return verdicts


def test_the_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    assert _verdicts(tmp_path) == dict.fromkeys(CONTRACTS, "KEPT")


@pytest.mark.parametrize("contract", sorted(VIOLATIONS), ids=lambda c: c.split(":")[0])
def test_a_planted_violation_breaks_exactly_its_contract(tmp_path: Path, contract: str) -> None:
    _copy_tree(tmp_path)
    _plant(tmp_path, *VIOLATIONS[contract])
    expected = dict.fromkeys(CONTRACTS, "KEPT") | {contract: "BROKEN"}
    assert _verdicts(tmp_path) == expected

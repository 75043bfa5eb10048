# catdog: `make up` runs the system on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAGEMAKER_SUPPRESS_V2_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: up test lint typecheck unit e2e bench clean system-deps cfn-lint secret-scan

up: $(STAMP)
	$(BIN)/catdog up

test: $(STAMP) system-deps lint typecheck secret-scan cfn-lint unit

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "catdog needs Python 3.11"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed; installing python3-venv"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	@echo "catdog: installing dependencies into $(VENV) (a few minutes the first time)"
	@$(BIN)/pip install -q --upgrade pip
	@# -qq: build back-ends print screens of notices about editable installs; errors still show.
	@$(BIN)/pip install -qq -e '.[test]'
	@echo "catdog: installed"
	@touch $(STAMP)

# Packages from Debian that the browser tests need (installed only where missing).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Every CloudFormation template must pass the linter.
cfn-lint: $(STAMP)
	$(BIN)/cfn-lint cloudformation/*.yaml

# No credential in any tracked file (allowances: scripts/secret_scan_allowlist.txt).
secret-scan: $(STAMP)
	$(BIN)/python scripts/secret_scan.py

unit: $(STAMP)
	$(BIN)/pytest -q

# Only the end-to-end suite (real `catdog up` processes); `make test` runs it too.
e2e: $(STAMP) system-deps
	$(BIN)/pytest -q -m e2e tests/e2e

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

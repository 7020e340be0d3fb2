# Two commands on a fresh machine with only Python and pip: `make demo` and `make test`.
# Each installs what it needs: uv through pip when missing, then the locked environment.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
UV := $(PYTHON) -m uv
# Never fetch a Python build: this project runs on the machine's own Python (>= 3.11).
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup demo site test lint typecheck pytest bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: .venv/.synced ## Install uv (if missing) and the locked environment

.venv/.synced: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv 2>/dev/null \
	  || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --locked
	@touch $@

demo: setup ## Run the kit's demonstration on the real corpus
	$(UV) run --locked filmkit demo

site: setup ## Execute the lessons and build the offline course site in _site/
	$(UV) run --locked filmkit publish

test: lint typecheck pytest ## Lint, type-check and run the test suite

lint: setup ## ruff lint and format check
	$(UV) run --locked ruff check src tests benchmarks assignments/authoring assignments/nbgrader_config.py
	$(UV) run --locked ruff format --check src tests benchmarks assignments/authoring assignments/nbgrader_config.py

typecheck: setup ## mypy (strict) on src/
	$(UV) run --locked mypy

pytest: setup ## The test suite
	$(UV) run --locked pytest $(PYTEST_ARGS)

bench: setup ## Benchmarks (figures printed, not asserted)
	$(UV) run --locked python benchmarks/evidence.py

clean: ## Remove the environment and caches
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis

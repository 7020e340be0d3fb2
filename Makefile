# Two commands on a fresh machine with only Python and pip: `make demo` and `make test`.
# Each installs what it needs: uv through pip when missing, then the locked environment.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
UV := $(PYTHON) -m uv
# Never fetch a Python build: this project runs on the machine's own Python (>= 3.11).
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# Bytecode compiled at install: the grading sandbox mounts the environment read-only, so without
# it every grading worker would recompile pandas and plotly on each start.
export UV_COMPILE_BYTECODE := 1
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup sandbox demo site test lint typecheck pytest bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: .venv/.synced ## Install uv (if missing) and the locked environment

.venv/.synced: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv 2>/dev/null \
	  || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --locked
	@$(MAKE) --no-print-directory sandbox
	@touch $@

# bubblewrap isolates each graded submission (Debian's package). Installed when missing and
# apt-get is usable; elsewhere `filmkit grade` warns loudly and grades without a sandbox.
sandbox: ## Install bubblewrap for the grading sandbox (apt-get, when missing)
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing bubblewrap (grading sandbox)"; \
	    (apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
	      || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1)) \
	      || echo "warning: could not install bubblewrap; filmkit grade will run unsandboxed"; \
	  else echo "warning: bubblewrap (bwrap) is missing; install it for the grading sandbox"; fi; }

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
	$(UV) run --locked python benchmarks/grade.py

clean: ## Remove the environment and caches
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis

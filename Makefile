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
.PHONY: help setup sandbox postgres demo site test lint typecheck pytest compat bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: .venv/.synced web/node_modules/.package-lock.json ## Install uv (if missing), the locked environment and plotly.js

# plotly.js for the course site and the class report: the npm package locked in web/ (its cartesian
# partial bundle), installed here once and never fetched by a build. Needs Node.js and npm; without
# them the rest installs, and `filmkit publish` and `filmkit report` stop, naming `make setup`.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd web && npm ci --no-audit --no-fund --ignore-scripts) && touch $@; \
	else echo "warning: npm is missing: install Node.js and npm (Debian: apt-get install npm)," \
	  "then run make setup again; the course site and filmkit report need plotly.js from it"; fi

.venv/.synced: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv 2>/dev/null \
	  || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --locked
	@$(MAKE) --no-print-directory sandbox postgres
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

# PostgreSQL (Debian's package) for a gradebook several graders share; the tests start a server
# of their own on a temporary data directory. Optional: SQLite needs nothing, and without it the
# PostgreSQL tests are skipped, saying so.
postgres: ## Install PostgreSQL's server programs for the shared-gradebook tests (apt-get, when missing)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing PostgreSQL (shared gradebooks)"; \
	    (apt-get install -y -qq postgresql >/dev/null 2>&1 \
	      || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq postgresql >/dev/null 2>&1)) \
	      || echo "warning: could not install postgresql; its tests will be skipped"; \
	  else echo "note: PostgreSQL is not installed (apt-get install postgresql, as root);" \
	    "SQLite gradebooks need nothing, and the PostgreSQL tests will be skipped"; fi; }

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

pytest: setup ## The test suite (nbgrader's own autograde tests through filmkit grade included)
	$(UV) run --locked pytest $(PYTEST_ARGS)

# Part of `make test` (tests/nbgrader_compat is in pytest's collection); here on its own.
# FILMKIT_NBGRADER_COMPAT=stock runs the same tests on stock nbgrader autograde: the baseline.
compat: setup ## nbgrader's installed autograde tests, each `nbgrader autograde` run as `filmkit grade`
	$(UV) run --locked pytest tests/nbgrader_compat $(PYTEST_ARGS)

bench: setup ## Benchmarks (figures printed, not asserted)
	$(UV) run --locked python benchmarks/evidence.py
	$(UV) run --locked python benchmarks/grade.py
	$(UV) run --locked python benchmarks/small_run.py

clean: ## Remove the environment and caches
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis

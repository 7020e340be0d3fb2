# Two commands on a fresh machine with only Python and pip: `make demo` and `make test`.
# Each installs what it needs: uv when missing, then the locked environment.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
# uv: the Python's own (python3 -m uv) or one on PATH; else a private copy in .uv-bootstrap/, a
# virtual environment of its own, so the system Python is never touched (Debian 12 and Ubuntu
# 24.04 refuse `pip install --user` there: PEP 668); where python3-venv is missing, pip's user
# install with the flag PEP 668 documents for it (--break-system-packages), behind a wrapper.
UV_BOOTSTRAP := .uv-bootstrap/bin/uv
UV := $(shell if $(PYTHON) -m uv --version >/dev/null 2>&1; then echo "$(PYTHON) -m uv"; \
  elif command -v uv >/dev/null 2>&1; then command -v uv; else echo "$(CURDIR)/$(UV_BOOTSTRAP)"; fi)
UV_NEEDED := $(if $(findstring $(UV_BOOTSTRAP),$(UV)),$(UV_BOOTSTRAP),)
# Never fetch a Python build: this project runs on the machine's own Python (>= 3.11).
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# Bytecode compiled at install: the grading sandbox mounts the environment read-only, so without
# it every grading worker would recompile pandas and plotly on each start.
export UV_COMPILE_BYTECODE := 1
# Two pytest-xdist workers, each test file on one of them: ~16 min on 2 cores instead of ~22 in
# one process (`make test PYTEST_ARGS=` for that). The tests that race a limit against the clock
# leave room for a loaded machine (tests/test_grade_hostile.py's grace).
PYTEST_ARGS ?= -n 2 --dist loadfile

.DEFAULT_GOAL := help
.PHONY: help setup sandbox postgres demo site test lint typecheck pytest compat bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: .venv/.synced web/node_modules/.package-lock.json ## Install uv (if missing), the locked environment and plotly.js

# plotly.js for the course site and the class report: the npm package locked in web/ (its cartesian
# partial bundle), installed here once and never fetched by a build; with it purgecss, which
# `filmkit publish` runs with Node.js to trim the theme's stylesheets. Needs Node.js and npm;
# without them the rest installs, and `filmkit publish` and `filmkit report` stop, naming
# `make setup`.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd web && npm ci --no-audit --no-fund --ignore-scripts) && touch $@; \
	else echo "warning: npm is missing: install Node.js and npm (Debian: apt-get install npm)," \
	  "then run make setup again; the course site and filmkit report need plotly.js from it"; fi

$(UV_BOOTSTRAP):
	@echo "Installing uv into .uv-bootstrap/ (the system Python is left as it is)"
	@rm -rf .uv-bootstrap
	@if $(PYTHON) -m venv .uv-bootstrap >/dev/null 2>&1 && .uv-bootstrap/bin/python -m pip --version >/dev/null 2>&1; then \
	  .uv-bootstrap/bin/python -m pip install --quiet --disable-pip-version-check uv; \
	else rm -rf .uv-bootstrap; \
	  echo "no venv module here (Debian: apt install python3-venv): pip's user install instead"; \
	  $(PYTHON) -m pip install --quiet --user uv 2>/dev/null \
	    || $(PYTHON) -m pip install --quiet --user --break-system-packages uv; \
	  mkdir -p .uv-bootstrap/bin; \
	  printf '#!/bin/sh\nexec %s -m uv "$$@"\n' "$(PYTHON)" > $@; chmod +x $@; fi

.venv/.synced: pyproject.toml uv.lock | $(UV_NEEDED)
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
	$(UV) run --locked ruff check src tests benchmarks deploy assignments/authoring assignments/nbgrader_config.py
	$(UV) run --locked ruff format --check src tests benchmarks deploy assignments/authoring assignments/nbgrader_config.py

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
	rm -rf .venv .uv-bootstrap .pytest_cache .mypy_cache .ruff_cache .hypothesis

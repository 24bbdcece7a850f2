# Quick start: `make run` starts the bot, `make test` runs the tests. Both set up .venv first,
# from the hashed lock files in requirements/ (`make lock` updates them, see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# setuptools prints an information note at every editable install (not a deprecation): hush it.
EDITABLE := PYTHONWARNINGS="ignore:Editable installation" $(PIP) install --quiet --no-deps --no-build-isolation -e .
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test test-all lint demo bench migrate check lock clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Exactly the locked packages, each checked against its hash; then the project itself
# (editable, built with the locked setuptools, no dependency of its own choosing).
$(RUN_STAMP): requirements/run.txt pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements/run.txt
	$(EDITABLE)
	touch $@

# The same, plus the test extra and the tools (pytest, ruff, mypy, pip-tools).
$(DEV_STAMP): requirements/dev.txt pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements/dev.txt
	$(EDITABLE)
	touch $@

# Migrates and starts the bot; with no BOT_TOKEN it starts the sandbox instead (and says so).
run: $(RUN_STAMP)
	@$(BIN)/loyalty-bot run

test: $(DEV_STAMP)
	$(BIN)/python -m pytest

test-all: $(DEV_STAMP)
	$(BIN)/python -m pytest -m ""

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy models bot scheduler handlers programs

migrate: $(RUN_STAMP)
	$(BIN)/loyalty-bot migrate

check: $(RUN_STAMP)
	$(BIN)/loyalty-bot check

# Simulate case A for 18 months through the real operations, then print the report.
demo: $(RUN_STAMP)
	$(BIN)/loyalty-bot simulate --program programs/case-a.toml --customers 1200 --months 18 --seed 1 \
		--fresh --database sqlite+aiosqlite:///demo.db
	$(BIN)/loyalty-bot report --database sqlite+aiosqlite:///demo.db

# docs/screenshots/*.png: the sandbox in the system Chromium (apt-get install -y chromium
# fonts-noto-color-emoji), driven by Playwright; re-run when those screens change.
screenshots: $(DEV_STAMP)
	$(BIN)/python -m sandbox.screenshots

bench: $(DEV_STAMP)
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

# Re-resolve the lock files from pyproject.toml and requirements/*.in, keeping every pin that
# still fits. UPGRADE=aiogram (or "aiogram fastapi") moves those packages to their newest
# allowed release, UPGRADE=all moves everything. The run lock is resolved first and the dev
# and build locks are constrained by it, so all three pin the same versions
# (requirements/build.txt: what builds the wheel, for .ci/wheel and the Dockerfile).
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
# (pip-compile adds an --upgrade-package it does not find, so the run lock gets only its own.)
UPGRADE_DEV := $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))
UPGRADE_RUN = $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),\
	$(if $(shell grep -qi '^$(p)==' requirements/run.txt && echo y),--upgrade-package $(p))))
lock: $(DEV_STAMP)
	$(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE_RUN) -o requirements/run.txt \
		pyproject.toml requirements/build.in
	$(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE_DEV) --extra test -c requirements/run.txt \
		-o requirements/dev.txt pyproject.toml requirements/build.in requirements/dev.in
	$(BIN)/pip-compile $(LOCK_FLAGS) -c requirements/run.txt -o requirements/build.txt requirements/build.in

clean:
	rm -rf $(VENV) *.egg-info build dist

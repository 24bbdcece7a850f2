# Quick start: `make run` starts the bot, `make test` runs the tests. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-all lint demo bench migrate check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Migrates and starts the bot; with no BOT_TOKEN it starts the sandbox instead (and says so).
run: $(STAMP)
	@$(BIN)/loyalty-bot run

test: $(STAMP)
	$(BIN)/python -m pytest

test-all: $(STAMP)
	$(BIN)/python -m pytest -m ""

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy models bot scheduler handlers

migrate: $(STAMP)
	$(BIN)/loyalty-bot migrate

check: $(STAMP)
	$(BIN)/loyalty-bot check

# Simulate case A for 18 months through the real operations, then print the report.
demo: $(STAMP)
	$(BIN)/loyalty-bot simulate --program programs/case-a.toml --customers 1200 --months 18 --seed 1 \
		--fresh --database sqlite+aiosqlite:///demo.db
	$(BIN)/loyalty-bot report --database sqlite+aiosqlite:///demo.db

bench: $(STAMP)
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info

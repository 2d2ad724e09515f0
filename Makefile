# PSIS Monitor. `make demo` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo serve test bench lint format system-deps static venv migrate clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --group dev -e .
	@touch $@

venv: $(VENV)/.installed

system-deps:
	@scripts/system-deps.sh

static/vendor/.installed: package.json package-lock.json
	@scripts/vendor-static.sh
	@touch $@

static: static/vendor/.installed

.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" > .env
	@echo "Wrote a development .env (DEBUG on, SQLite)."

migrate: venv .env
	$(MANAGE) migrate --no-input

## Install everything, load the PSIS reference data and the demo, and run the app.
demo: system-deps venv static .env migrate
	$(MANAGE) seed_demo
	@echo "Open http://$(HOST):$(PORT)/ and sign in with one of the accounts above. Ctrl+C stops."
	@# The background worker builds meeting packs and contract-exit ZIPs; it stops with the server.
	@$(MANAGE) reap_stuck_jobs
	@$(MANAGE) db_worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	$(MANAGE) runserver $(HOST):$(PORT)

## Production-like: gunicorn + WhiteNoise + worker, DEBUG off (needs SECRET_KEY, DATABASE_URL).
serve: system-deps venv static
	scripts/serve.sh

## The whole test suite (unit, database, browser). DATABASE_URL picks PostgreSQL.
test: system-deps venv static
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	PSIS_TESTING=1 $(MANAGE) makemigrations --check --dry-run
	PSIS_TESTING=1 $(VENV)/bin/pytest

## Benchmarks: speed and memory goals, printed as ratios. Not part of `make test`.
bench: system-deps venv static
	PSIS_TESTING=1 $(VENV)/bin/pytest tests/benchmarks -s -p no:randomly -o testpaths=tests/benchmarks

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles db.sqlite3*

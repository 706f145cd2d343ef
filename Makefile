# Fieldline: the two commands are `make run` (the portal with its demo) and `make test` (everything CI runs).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test install lint test-sqlite test-postgres bench bench-1m load chaos clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

## make run: install, migrate, seed the demo, start sandbox + worker + web on 127.0.0.1:8000
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	./scripts/run-demo $(PY)

## make test: lint, then the whole suite on SQLite and again on PostgreSQL
test: install
	./scripts/run-tests $(PY)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test-sqlite: install
	env -u DATABASE_URL $(VENV)/bin/pytest

test-postgres: install
	DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest

## make bench: every benchmark at 100 000 records under production settings (SCALE=, RUNS=, BENCH=)
SCALE ?= 100000
RUNS  ?= 1
BENCH ?=
bench: install
	$(PY) -m benchmarks --scale $(SCALE) --runs $(RUNS) $(BENCH)

## make bench-1m: the 1 000 000-ticket run (sync, windowed deletion, sandbox sweep); not in CI
bench-1m: install
	$(PY) -m benchmarks --scale 1000000 --runs $(RUNS) sync deletion sandbox

## make load: 50 staff browsing 100 000 tickets while a full sync runs (locust, gunicorn, PostgreSQL)
load: install
	$(PIP) install --quiet -e ".[test,load]"
	$(PY) scripts/loadtest.py

## make chaos: SIGKILL sync and outbox workers at random instants, then check for duplicates and losses
chaos: install
	$(PY) scripts/chaos.py --kills 20 --drafts 40

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# Fieldline: the two commands are `make run` (the portal with its demo) and `make test` (everything CI runs).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test install install-test lint test-sqlite test-postgres bench e2e-deps clean

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

bench: install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

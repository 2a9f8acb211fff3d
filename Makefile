# Flowyard: `make run` serves the embedded app, `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/flowyard
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
TEST_DIR ?= var/test

.PHONY: install run test test-sqlite test-service test-browser bench bench-quick clean demo chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# dev and bench extras: the suite smoke-tests the bench harness against SpiffWorkflow.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed
	@mkdir -p var

demo: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py load_demo

run: demo
	@echo "Serving Flowyard (embedded: SQLite, in-process worker) on http://$(HOST):$(PORT)/"
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

# Browser tests need Debian's Chromium; install it when missing and we may (CI runs as root).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else echo "Chromium missing: browser tests will be skipped (apt-get install chromium)"; fi; fi

test: install chromium
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-service

# Leg 1: the embedded default. SQLite in a file so the in-process worker and the browser
# test's Daphne subprocess see the same database.
test-sqlite:
	@echo "=== leg 1: SQLite (embedded topology) + browser tests"
	rm -rf $(TEST_DIR) && mkdir -p $(TEST_DIR)
	env -u DATABASE_URL -u REDIS_URL SQLITE_TEST_PATH=$(abspath $(TEST_DIR))/test.sqlite3 FLOWYARD_TEST_DIR=$(abspath $(TEST_DIR)) \
	  $(BIN)/pytest -m "not service" $(PYTEST_ARGS)

# Leg 2: service mode, PostgreSQL + Redis and real Celery worker processes. Skipped with a
# message when the services are not reachable on 127.0.0.1 (CI always has them).
test-service:
	@if $(BIN)/python -m tests.services_up "$(PG_URL)" "$(REDIS_TEST_URL)"; then \
	  echo "=== leg 2: PostgreSQL + Redis (service topology)"; \
	  mkdir -p $(TEST_DIR); DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) SECRET_KEY=test-only-secret FLOWYARD_TEST_DIR=$(abspath $(TEST_DIR)) \
	    $(BIN)/pytest -m "not browser" $(PYTEST_ARGS); \
	else echo "=== leg 2 SKIPPED: PostgreSQL at 127.0.0.1:5432 or Redis at 127.0.0.1:6379 not reachable"; fi

bench: install
	$(BIN)/python -m bench.run --full

bench-quick: install
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf var/test .pytest_cache

# campusflow: `make run` to try it, `make test` to check it. Everything a fresh clone needs is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export CAMPUSFLOW_DATABASE_URL ?= sqlite:///campusflow.db
MODELER_CHECK := ../shared/tools/modeler-check

.PHONY: run test test-postgres install install-test browser-deps lint modeler-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

run: install
	$(BIN)/campusflow db upgrade
	$(BIN)/campusflow deploy processes --forms forms
	$(BIN)/campusflow demo
	$(BIN)/campusflow serve --host 127.0.0.1 --port 5000

# Browser tests need Debian's chromium (no browser download works here) and axe-core from npm.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@test ! -f tests/browser/package.json || test -d tests/browser/node_modules/axe-core || npm ci --prefix tests/browser --silent --no-audit --no-fund

test: install-test browser-deps
	$(BIN)/ruff check engine web tests bench
	$(BIN)/pytest -q -m "not postgres_only"

# The same suite against the PostgreSQL server (CAMPUSFLOW_TEST_POSTGRES_URL, default the local one).
test-postgres: install-test browser-deps
	CAMPUSFLOW_TEST_POSTGRES_URL=$${CAMPUSFLOW_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres} $(BIN)/pytest -q

modeler-check:
	@# npm 11 refuses `npm ci --prefix` for this package ("Missing: modeler-check from lock file"); cd works.
	@test -d $(MODELER_CHECK)/node_modules || (cd $(MODELER_CHECK) && npm ci --silent --no-audit --no-fund)
	node $(MODELER_CHECK)/check.mjs processes forms

# Every benchmark, each printing its figures next to its target (about 8 minutes; PostgreSQL must be up).
bench: install-test
	cd bench && ../$(BIN)/python complete_task.py --seconds 5
	cd bench && ../$(BIN)/python http_load.py --seconds 20
	cd bench && ../$(BIN)/python growth.py --sizes 1000,10000,100000
	cd bench && ../$(BIN)/python timers.py --timers 10000
	cd bench && ../$(BIN)/python memory.py --instances 200
	cd bench && ../$(BIN)/python audit.py --events 200000

lint: install-test
	$(BIN)/ruff check engine web tests bench

clean:
	rm -rf $(VENV) *.egg-info campusflow.db campusflow.db-* instance test-artifacts

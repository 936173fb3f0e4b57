# dtsen-portal. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PORT ?= 8000
WORKERS ?= 2
PG_TEST_SERVER ?= postgresql+psycopg://postgres@127.0.0.1:5432
REDIS_TEST_SERVER ?= redis://127.0.0.1:6379
# Python's default: modules compiled once into __pycache__, and pytest's rewritten test
# modules kept there too. An environment that sets PYTHONDONTWRITEBYTECODE (this sandbox
# does) made every test process compile portal and rewrite each test module's asserts again.
export PYTHONDONTWRITEBYTECODE :=
PG_TEST_URL ?= $(PG_TEST_SERVER)/test
REDIS_TEST_URL ?= $(REDIS_TEST_SERVER)/0
# `make test-both` runs each engine's suite in parts side by side; PostgreSQL part K uses the
# database test_K (test for the first; created by the suite if missing) and Redis database K-1
SQLITE_PARTS ?= 2
PG_PARTS ?= 3

.DEFAULT_GOAL := help
.PHONY: help install lock run serve setup-demo test test-sqlite test-postgres test-both test-durations lint fmt \
        coverage-report e2e i18n-extract i18n-update i18n-compile i18n-check db-upgrade bench bench-staff \
        bench-export bench-tools load clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-15s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The exact versions of requirements/dev.txt (hashes checked), then the portal itself.
$(VENV)/.installed: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed ## Create .venv and install the portal with its dev tools (locked)

# Locked with the oldest Python we deploy on (Debian 12's python3, 3.11.2), so the lock holds
# what it needs too (redis wants async-timeout before 3.11.3); pip-tools in a venv of it.
LOCK_PYTHON ?= /usr/bin/python3
LOCK_VENV := .lock-venv
LOCK := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
        --no-header --no-emit-index-url --no-emit-find-links

lock: ## Re-resolve requirements/*.txt from the ranges in pyproject.toml (network)
	$(LOCK_PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet pip-tools
	$(LOCK) --upgrade -o requirements/main.txt pyproject.toml
	$(LOCK) --upgrade --extra dev -o requirements/dev.txt pyproject.toml
	rm -rf $(LOCK_VENV)

# Each catalog is compiled when its .po is newer than its .mo, so the parts of make test-both
# (each a make test-sqlite or test-postgres) do not compile them again side by side.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

i18n-compile: $(CATALOGS) ## Compile the translation catalogs (.mo files are not committed)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@ --statistics

i18n-extract: install ## Extract strings into translations/messages.pot
	$(BIN)/python -m portal.i18n.catalogs extract

i18n-update: i18n-extract ## Merge the POT into the id and en catalogs (en filled from msgids)
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete
	$(BIN)/python -m portal.i18n.catalogs fill-en

i18n-check: install ## Fail if the POT is stale or a catalog has untranslated/fuzzy entries
	$(BIN)/python -m portal.i18n.catalogs check

setup-demo: i18n-compile ## Migrate the SQLite database, import regions and load the demo data
	PORTAL_ENV=development $(FLASK) db upgrade
	PORTAL_ENV=development $(FLASK) wilayah import
	PORTAL_ENV=development $(FLASK) demo

serve: ## Serve with gunicorn on 127.0.0.1:$(PORT) (no set-up)
	PORTAL_ENV=development $(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) \
	    --access-logfile - --access-logformat '"%(m)s %(U)s" %(s)s %(b)s %(L)ss' wsgi:app

run: setup-demo serve ## Install, set up the demo database and serve on 127.0.0.1:$(PORT)

db-upgrade: install ## Apply the Alembic migrations to DATABASE_URL
	$(FLASK) db upgrade

test: i18n-compile ## Install and run everything: unit suite (SQLite; + PostgreSQL/Redis with CI=true), e2e, lint
	@if [ "$${CI:-}" = "true" ] || [ -n "$${TEST_POSTGRES:-}" ]; then \
	    $(MAKE) --no-print-directory test-both; \
	else $(BIN)/python -m coverage erase && \
	    $(MAKE) --no-print-directory test-sqlite COVERAGE=1 && \
	    $(MAKE) --no-print-directory coverage-report COVERAGE_FLOOR=$(COVERAGE_FLOOR_SQLITE); fi
	$(MAKE) --no-print-directory e2e
	$(MAKE) --no-print-directory lint

# pytest arguments for test-sqlite / test-postgres, e.g. PYTEST_ARGS=tests/review
PYTEST_ARGS ?=

# COVERAGE=1: measure the portal's line and branch coverage during the run (a data file per
# run); `make coverage-report` then combines the runs, prints the least covered modules and
# fails below COVERAGE_FLOOR (percent). make test-both measures both engines together, since
# some paths run on one engine only (the PostgreSQL COPY import, partitions, SKIP LOCKED
# claims); a SQLite-only `make test` holds the lower COVERAGE_FLOOR_SQLITE.
COVERAGE ?=
COVERAGE_FLOOR ?= 90
COVERAGE_FLOOR_SQLITE ?= 86
# COVERAGE_INCLUDE: measure only the files these patterns match instead of all of portal/.
# make test-both's PostgreSQL parts measure COVERAGE_ENGINE_INCLUDE: the files whose lines
# depend on the engine (found by comparing the SQLite run's coverage with both engines': the
# COPY import, partitions and retention, the Redis session store and counters, SKIP LOCKED
# claims, migrations); the SQLite parts measure everything. Tracing every module on both
# engines doubled the tracing (about +90 % CPU) for no line that only PostgreSQL reaches. (Patterns
# and no configuration file, since the configuration's `source` overrides them; coverage's
# `--source` with module names imports portal before the tests start, which broke
# SQLAlchemy's statement cache and left the test SMTP server's sessions unclosed.)
COVERAGE_INCLUDE ?=
COVERAGE_ENGINE_INCLUDE := portal/dataimport/*,portal/wilayah/loader.py,portal/statistik/*,portal/auth/sessions.py,portal/counted.py,portal/review/summary.py,portal/review/dashboard.py,portal/migrations/*,portal/jobs/*,portal/access/*,portal/replay/*,portal/policy.py,portal/db.py,portal/migrate.py
# ... and only while the tests that reach those lines run (tests/fixtures/coverage_scope.py):
# the tracer costs about 70 % more CPU on every test it runs under, measured files or not.
# The combined report is the same line for line as with the whole PostgreSQL run traced.
COVERAGE_ENGINE_TESTS := tests/dataimport,tests/statistik,tests/jobs,tests/access,tests/auth,tests/audit,tests/lookup,tests/test_migrations.py,tests/test_config.py,tests/review/test_decide.py,tests/review/test_dashboard.py,tests/review/test_office_dashboard.py,tests/review/test_summary.py,tests/review/test_export_jobs.py,tests/review/test_reflected.py,tests/appeals/test_notifications.py,tests/appeals/test_policy.py
COVERAGE_RUN = coverage run --parallel-mode $(if $(COVERAGE_INCLUDE),--rcfile=/dev/null --branch --include='$(COVERAGE_INCLUDE)',)
PYTEST := $(BIN)/python -m $(if $(COVERAGE),$(COVERAGE_RUN) -m,) pytest -q -p no:cacheprovider

test-sqlite: i18n-compile ## Run the suite on SQLite with in-memory rate-limit storage
	env -u DATABASE_URL -u RATELIMIT_STORAGE_URI $(PYTEST) $(PYTEST_ARGS)

test-postgres: i18n-compile ## Run the suite on PostgreSQL + Redis (fails if either is unreachable)
	TEST_DATABASE_URL=$(PG_TEST_URL) TEST_REDIS_URL=$(REDIS_TEST_URL) $(PYTEST) $(PYTEST_ARGS)

coverage-report: install ## Combine the coverage runs' data; fail below COVERAGE_FLOOR
	$(BIN)/python -m coverage combine -q
	$(BIN)/python -m coverage report --fail-under=$(COVERAGE_FLOOR)

# The two engines side by side, each in parts (--shard, tests/fixtures/shard.py, balanced by
# tests/durations.json), each part's lines prefixed with its name: SQLITE_PARTS + PG_PARTS
# processes keep both cores busy to the end (a PostgreSQL part waits on its server, so that
# engine has more parts). The PostgreSQL parts leave out the tests that use no database
# (--database-tests-only: about 600 on domain logic, the reader, the settings; they answer
# the same on any engine and run in the SQLite parts). Their coverage is combined.
# tests/faults runs on PostgreSQL + Redis only (on SQLite each of its tests skips), on a
# database and a Redis database of its own: it starts when the first part ends (the parts
# end over half a minute or more, cores left idle), and its timing module (every "no" in
# the same time) runs last and waits for the file FAULTS_TIME_AFTER names, created once the
# parts and the coverage report are done: it times answers, so nothing else competes.
FAULTS_PG_URL = $(PG_TEST_SERVER)/test_faults
FAULTS_REDIS_URL = $(REDIS_TEST_SERVER)/$(PG_PARTS)
test-both: i18n-compile ## The suite on SQLite and on PostgreSQL + Redis in parallel, the fault tests beside their end
	@set -o pipefail; rc=0; parts=; $(BIN)/python -m coverage erase; \
	for k in $$(seq 1 $(SQLITE_PARTS)); do \
	    ( $(MAKE) --no-print-directory test-sqlite COVERAGE=1 \
	        PYTEST_ARGS="--ignore=tests/faults --shard $$k/$(SQLITE_PARTS)" 2>&1 \
	        | sed -u "s/^/[sqlite $$k] /" ) & \
	    parts="$$parts $$!"; \
	done; \
	for k in $$(seq 1 $(PG_PARTS)); do \
	    db=test; [ $$k -eq 1 ] || db=test_$$k; \
	    ( $(MAKE) --no-print-directory test-postgres COVERAGE=1 \
	        COVERAGE_INCLUDE='$(COVERAGE_ENGINE_INCLUDE)' PG_TEST_URL=$(PG_TEST_SERVER)/$$db \
	        REDIS_TEST_URL=$(REDIS_TEST_SERVER)/$$((k - 1)) \
	        PYTEST_ARGS="--ignore=tests/faults --shard $$k/$(PG_PARTS) --database-tests-only --measure-only=$(COVERAGE_ENGINE_TESTS)" 2>&1 \
	        | sed -u "s/^/[postgres $$k] /" ) & \
	    parts="$$parts $$!"; \
	done; \
	wait -n -p ended $$parts || rc=1; \
	quiet=$$(mktemp -u /tmp/dtsen-faults-quiet.XXXXXX); \
	( FAULTS_TIME_AFTER=$$quiet $(MAKE) --no-print-directory test-postgres \
	    PG_TEST_URL=$(FAULTS_PG_URL) REDIS_TEST_URL=$(FAULTS_REDIS_URL) PYTEST_ARGS=tests/faults \
	    2>&1 | sed -u "s/^/[faults] /" ) & \
	faults=$$!; \
	for part in $$parts; do [ $$part = $$ended ] || wait $$part || rc=1; done; \
	$(MAKE) --no-print-directory coverage-report || rc=1; \
	touch $$quiet; wait $$faults || rc=1; rm -f $$quiet; \
	exit $$rc

test-durations: i18n-compile ## Measure each test module's seconds on both engines into tests/durations.json
	( $(MAKE) --no-print-directory test-sqlite PYTEST_ARGS="--ignore=tests/faults --record-durations" ) & \
	    sqlite=$$!; \
	$(MAKE) --no-print-directory test-postgres \
	    PYTEST_ARGS="--ignore=tests/faults --database-tests-only --record-durations"; \
	    rc=$$?; wait $$sqlite && exit $$rc

e2e: install ## The browser suite against the wheel behind nginx + TLS, on PostgreSQL + Redis
	npm ci --prefix e2e --no-audit --no-fund --silent
	$(BIN)/python e2e/stack.py up
	@status=0; $(BIN)/python -m pytest -p no:cacheprovider -q e2e || status=$$?; \
	    $(BIN)/python e2e/stack.py down; \
	    echo "e2e screenshots: $(CURDIR)/e2e/out/screenshots"; exit $$status

lint: install ## ruff check, format check, mypy and the i18n gate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(MAKE) --no-print-directory i18n-check

fmt: install ## ruff fix and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The benchmarks' runs (bench/run_all.py's RUNS: each builds its own data under bench/out/,
# never instance/). Empty: every run. A script's name (lookup_vs_floor, import, staff, export,
# load) stands for its runs. BENCH_ARGS=--quick leaves out the long runs (10 M look-ups,
# 3.6 M import) and gives --quick to each script that offers it. See bench/README.md.
BENCHES ?=
BENCH_ARGS ?=
LOAD_ARGS ?=

bench: i18n-compile bench-tools ## Run every benchmark in bench/ one after the other; print figures and ratios
	$(BIN)/python bench/run_all.py $(BENCH_ARGS) $(BENCHES)

load: i18n-compile bench-tools ## 60 s mixed load (wrk) on PostgreSQL + Redis; fails on any non-2xx/3xx/429
	$(BIN)/python bench/load.py $(LOAD_ARGS)

# wrk drives the served benchmarks (the look-up against the floor, the mixed load): Debian's
# package, installed when missing if we are root, as `make e2e` installs nginx and Chromium
bench-tools: ## Install wrk from Debian's packages if it is missing (as root)
	@command -v wrk >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" != 0 ]; then \
	        echo "wrk is missing: install it as root first (apt-get install -y wrk)" >&2; exit 1; \
	    fi; \
	    echo "installing wrk (apt)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk \
	    || { DEBIAN_FRONTEND=noninteractive apt-get update -q \
	         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; }; }

bench-staff: install ## Staff queue, case page and dashboard at 1 M cases (PostgreSQL, BENCH_STAFF_URL)
	$(BIN)/python bench/staff.py

bench-export: install ## Pusdatin export of 20 k and 100 k cases on PostgreSQL (bench/README.md)
	$(BIN)/python bench/export.py

clean: ## Remove the venv, compiled catalogs and the demo database
	rm -rf $(VENV) instance translations/*/LC_MESSAGES/*.mo

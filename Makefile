# Parecer: `make run` starts everything on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     ?= .venv
PY       := $(VENV)/bin/python
PYTHON   ?= $(shell scripts/find-python.sh)
LOCK     := requirements.lock
STAMP    := $(VENV)/.installed

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	@test -n "$(PYTHON)" || { echo "No Python >= 3.12 found (see above)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) $(LOCK) pyproject.toml
	@set -o pipefail; $(PY) -m pip install --quiet -r $(LOCK) 2>&1 | { grep -v "^WARNING: Location .file:" || true; }
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the locked dependencies (dev included)

lock:  ## re-resolve requirements*.lock from pyproject.toml (needs uv in the venv)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.12 -o requirements.lock --no-header --quiet
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.12 -o requirements-prod.lock --no-header --quiet

run: install  ## migrate, ensure an admin, then serve the API + one task worker (Ctrl-C stops both)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py schedule_periodic
	@scripts/run-dev.sh $(PY)

test: install  ## the whole suite (embedded defaults, or DATABASE_URL / REDIS_URL when set)
	$(PY) -m pytest $(PYTEST_ARGS)

test-faults: install  ## the fault suite: gunicorn on its own PostgreSQL + Redis, broken under load (~3 min)
	$(PY) scripts/faults/run.py

browser-setup: install  ## Debian's chromium for the browser suite (as root, no prompt); never `playwright install`
	@command -v chromium >/dev/null || { \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }
	@command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)"; exit 1; }

test-browser: browser-setup  ## the browser suite: Chromium against the production server (BROWSER_DATABASE_URL, BROWSER_REDIS_URL)
	BROWSER_TESTS=1 $(PY) -m pytest tests/browser -p no:xdist -m browser $(PYTEST_ARGS)

lint: install  ## ruff check + format check + import floors (import-linter) + migrations in sync
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

format: install  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

serve: install  ## the production server: collectstatic, then gunicorn (needs the production environment variables)
	DJANGO_SETTINGS_MODULE=config.settings.prod $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=config.settings.prod $(VENV)/bin/gunicorn -c config/gunicorn.py

schema: install  ## write the served OpenAPI schema to docs/openapi.json (the reviewed contract)
	PYTHONPATH=. $(PY) scripts/schema-snapshot.py

client-check:  ## generate the TypeScript client from docs/openapi.json and type-check a usage file
	scripts/check-typescript-client.sh

fuzz: install  ## schemathesis + object-level authorization against the production server (PostgreSQL + Redis)
	scripts/contract-fuzz.sh

bench: install  ## load-test the production server on PostgreSQL + Redis with wrk
	scripts/bench.sh

bench-analyses: install  ## analyses: submit req/s and end-to-end analyses/s for 1, 2, 4 workers (fake 2 s LLM)
	scripts/bench/analyses.sh
bench-ab: install  ## A/B: make bench's scenarios against BASE=<git ref> and this tree, alternately
	BASE=$(BASE) scripts/bench-ab.sh

clean:  ## remove the virtual environment and local state
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .run .bench .fuzz .artifacts clients/typescript/node_modules

.PHONY: help install lock run test test-faults browser-setup test-browser lint format serve schema client-check fuzz bench bench-ab bench-analyses clean

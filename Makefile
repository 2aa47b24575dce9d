# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint messages screenshots

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed ($(PYTHON) is $$($(PYTHON) -V 2>&1)); try: make PYTHON=python3.12 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) scripts/with_redis.py $(PY) scripts/run.py

test: install
	$(PY) scripts/with_redis.py $(PY) -m pytest $(PYTEST_ARGS)

# Refresh the committed screenshots (docs/screenshots/) from the browser tests;
# `make test` writes them to var/screenshots/ and leaves the committed ones alone.
screenshots: install
	SCREENSHOT_DIR=docs/screenshots $(PY) scripts/with_redis.py $(PY) -m pytest -q tests/web $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Refresh the French catalog from the code, then compile it (translate new entries in between).
messages: install
	$(PY) manage.py makemessages -l fr -l uk --no-wrap -i .venv -i .venv-prod -i var -i docs -i bench -i tests -i scripts
	$(PY) manage.py compilemessages -i .venv -i .venv-prod

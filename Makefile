# Lentera: two commands for a newcomer — `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make run PORT=8080` serves on another port (the address xAPI records carry follows it).
PORT ?= 5000
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install install-test translations vendor messages lint clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	# A venv starts with the pip and setuptools its Python shipped, often years old.
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=68' wheel
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml setup.py examples/lentera-likert/pyproject.toml | $(BIN)/python
	# The wheel test builds without build isolation: with this venv's setuptools and wheel.
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=68' wheel
	$(BIN)/pip install --quiet -e '.[test,dev]'
	# The example plugin, so the suite tests the plugin surface as a plugin sees it.
	$(BIN)/pip install --quiet --no-deps -e examples/lentera-likert
	touch $@ $(STAMP)

install: $(STAMP) translations vendor

install-test: $(TEST_STAMP) translations vendor

# Front-end libraries (chart.js, scorm-again, h5p-standalone; axe-core for the browser
# tests) come from npm at the versions package-lock.json pins; scripts/vendor.py copies
# their built files into static/vendor/, which Lentera serves itself. Never committed.
NPM_STAMP := node_modules/.installed
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

VENDOR_STAMP := static/vendor/.copied
$(VENDOR_STAMP): $(NPM_STAMP) scripts/vendor.py | $(BIN)/python
	$(BIN)/python scripts/vendor.py
	touch $@

vendor: $(VENDOR_STAMP)

# Compiled catalogs are built here, never committed.
translations: $(STAMP)
	@for d in lms/translations lms/*/translations; do \
	  if [ -d "$$d" ]; then $(BIN)/pybabel compile -d "$$d" || exit 1; fi; done

# Re-extract UI strings into the per-module catalogs (lms/**/translations), then
# translate the new entries in their id/LC_MESSAGES/messages.po.
messages: $(STAMP)
	$(BIN)/python scripts/messages.py

run: install
	export LMS_BASE_URL="$${LMS_BASE_URL:-http://127.0.0.1:$(PORT)}" && \
	  $(BIN)/lms init && $(BIN)/lms demo && \
	  echo "Lentera on http://127.0.0.1:$(PORT)/ - stop it with Ctrl+C" && \
	  $(BIN)/lms serve --host 127.0.0.1 --port $(PORT)

# Two workers (pytest-xdist): each has its own SQLite file or PostgreSQL database; the
# browser and scale tests share one worker (--dist loadgroup). PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n 2 --dist loadgroup

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Ruff on the code, the tests and the benchmarks; mypy on lms/ (strict on lms/xapi,
# lms/competency and lms/plugins; the settings are in pyproject.toml). CI runs it first.
lint: install-test
	$(BIN)/ruff check lms tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/import_employees.py

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules static/vendor

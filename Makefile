# Every target bootstraps its own virtual environment from the locked requirements.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CLOUDSOC_HOME ?= $(CURDIR)/.cloudsoc

.PHONY: demo test bench lint typecheck clean postgres

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m cloudsoc.demo

lint: $(STAMP)
	$(BIN)/ruff check cloudsoc tests
	$(BIN)/ruff format --check cloudsoc tests

typecheck: $(STAMP)
	$(BIN)/mypy

# The tests start real PostgreSQL servers from the Debian package's binaries.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

test: lint typecheck postgres
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

bench: $(STAMP)
	$(BIN)/python -m cloudsoc.bench

clean:
	rm -rf $(VENV) .cloudsoc bench-data

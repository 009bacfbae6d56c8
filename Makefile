# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_DB ?= innobridge_test
PG_URL := postgres://postgres@127.0.0.1:5432/$(PG_TEST_DB)

.PHONY: demo test lint pytest postgres migrations clean

# A new top-level package must be re-registered with the editable install, hence */__init__.py.
$(STAMP): pyproject.toml $(wildcard */__init__.py)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/innobridge sandbox

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot handlers models scheduler locales

# Starts the local PostgreSQL server if it is down and makes a fresh test database.
# Prints the URL on success; nothing (and a notice) when this machine has no PostgreSQL.
postgres:
	@bash .ci/postgres.sh $(PG_TEST_DB)

# Two processes: Tortoise caches per-model SQL in the dialect of the first database it saw,
# so SQLite and PostgreSQL cannot share one interpreter.
pytest: $(STAMP)
	@bash .ci/chromium.sh
	@url=$$(bash .ci/postgres.sh $(PG_TEST_DB)) && export PTB_TIMEDELTA=1 && \
	INNOBRIDGE_TEST_POSTGRES_URL=$$url $(BIN)/pytest -q -rs -m "not postgres" && \
	INNOBRIDGE_TEST_POSTGRES_URL=$$url $(BIN)/pytest -q -rs -m postgres

test: lint pytest

migrations: $(STAMP)
	$(BIN)/tortoise -c models.db.TORTOISE_ORM makemigrations

clean:
	rm -rf $(VENV) sandbox-data .pytest_cache .mypy_cache .ruff_cache

# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_DB ?= innobridge_test
PG_URL := postgres://postgres@127.0.0.1:5432/$(PG_TEST_DB)

.PHONY: demo test lint pytest postgres migrations clean bench bench-profile

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

# Benchmarks of issue #8 (bench/, docs/PERFORMANCE.md); CI does not run them. About 25 minutes
# (after waiting up to 5 minutes for a quiet machine); BENCH_ARGS=--quick takes about 8.
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench --wait-quiet 300 $(BENCH_ARGS)

# py-spy on the bot during the flows, pyinstrument on a 100k tick: docs/bench/profile-*.txt
bench-profile: $(BENCH_STAMP)
	$(BIN)/python -m bench.profile flows sqlite
	$(BIN)/python -m bench.profile flows postgres
	$(BIN)/python -m bench.profile tick sqlite

migrations: $(STAMP)
	$(BIN)/tortoise -c models.db.TORTOISE_ORM makemigrations

clean:
	rm -rf $(VENV) sandbox-data .pytest_cache .mypy_cache .ruff_cache

# Two commands do everything: `make run` and `make test`. The rest are helpers.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test test-clock bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m csms serve

# Many tests wait on sockets and PostgreSQL rather than compute: two workers (pytest-xdist,
# each with its own embedded PostgreSQL) keep the suite within a few minutes on two cores;
# worksteal: a worker that runs dry takes tests queued for the other (the fuzz test is long).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

# The tests whose outcome depends on the hour, weekday or date (sharing windows, tariff bands,
# holidays, reports) once more with the CSMS clock set to a working-day morning in China, when
# shared piles are closed to the public, and the process in another time zone: a test that reads
# the wall clock instead of csms.clock fails here whenever it runs. CI runs it after `make test`.
CLOCK_MOMENT ?= 2026-12-09T10:30:00+08:00
test-clock: $(STAMP)
	CSMS_TEST_NOW=$(CLOCK_MOMENT) TZ=America/Los_Angeles $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m time_sensitive

bench: $(STAMP)
	$(PY) -m tests.bench.gateway_bench
	$(PY) -m tests.bench.fleet_bench
	$(PY) -m tests.bench.ledger_bench
	$(PY) -m tests.bench.billing_bench
	$(PY) -m tests.bench.utilization_bench
	$(PY) -m tests.bench.platform_bench

lint: $(STAMP)
	$(PY) -m ruff check csms simulators ocppj tests
	$(PY) -m ruff format --check csms simulators ocppj tests
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff format csms simulators ocppj tests
	$(PY) -m ruff check --fix csms simulators ocppj tests

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

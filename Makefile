# Two commands do everything: `make run` and `make test`. The rest are helpers.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m csms serve

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m tests.bench.gateway_bench
	$(PY) -m tests.bench.fleet_bench
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

# One task runner for people and CI. `make up` runs the pipeline with its console;
# `make test` runs lint, type checks and the whole suite against real Kafka and Redis.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv up down services test unit integration lint format typecheck clean bench chromium prometheus contract

help:
	@echo "make up         run Kafka, Redis, the eventgate worker and API/console (Ctrl-C stops)"
	@echo "make test       lint + type checks + every test (unit and integration)"
	@echo "make unit       unit tests only (no services)"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make typecheck  mypy --strict on src/"
	@echo "make services   start (or reuse) local Kafka and Redis only"
	@echo "make down       stop the local Kafka and Redis that the launcher started"
	@echo "make bench      eventgate vs Quix Streams, faust and the aiokafka floor (~8 min;"
	@echo "                BENCH_ARGS=--quick for ~3 min; see bench/README.md)"
	@echo "make contract   the API's OpenAPI contract test, long: 400 examples per operation,"
	@echo "                a new seed (printed; CONTRACT_SEED=… replays it; ~10 min)"
	@echo "make faults     the full fault suite (kills, pauses, network faults; ~10 min),"
	@echo "                results in tests/faults/results/ and docs/faults.md"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

venv: $(STAMP)

up: venv
	$(BIN)/eventgate up

services: venv
	$(BIN)/python -m eventgate.devstack up

down: venv
	$(BIN)/python -m eventgate.devstack down

test: lint typecheck chromium prometheus
	$(BIN)/pytest

# Debian's chromium for the console's browser tests (installs it when missing, as root).
chromium:
	bash scripts/ensure-chromium.sh

# Debian's prometheus (prometheus + promtool) for the observability tests and the promtool
# checks of deploy/prometheus (installs it when missing, as root).
prometheus:
	bash scripts/ensure-prometheus.sh

unit: venv
	$(BIN)/pytest tests/unit

integration: venv
	$(BIN)/pytest tests/integration

lint: venv
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: venv
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

typecheck: venv
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# The API's contract test at length (tests/integration/test_api_contract.py; `make test` runs
# it with a fixed seed and 30 examples per operation). CONTRACT_SEED / CONTRACT_EXAMPLES
# override both.
CONTRACT_EXAMPLES ?= 400
ifndef CONTRACT_SEED
CONTRACT_SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif

contract: venv
	@echo "contract: seed $(CONTRACT_SEED), $(CONTRACT_EXAMPLES) examples per operation"
	CONTRACT_SEED=$(CONTRACT_SEED) CONTRACT_EXAMPLES=$(CONTRACT_EXAMPLES) \
		$(BIN)/pytest tests/integration/test_api_contract.py --timeout 3600 -s

# The benchmark (bench/README.md): its own Kafka and Redis on ports 19292/16379, results in
# bench/results/. The Quix Streams peer runs from its own virtualenv (bench/requirements-quix.txt).
BENCH_ARGS ?=
QUIX_VENV  := bench/.venv-quix

$(VENV)/.bench-installed: $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,dev,bench]'
	touch $@

$(QUIX_VENV)/.installed: bench/requirements-quix.txt
	$(PYTHON) -m venv $(QUIX_VENV)
	$(QUIX_VENV)/bin/pip install --quiet --upgrade pip
	$(QUIX_VENV)/bin/pip install --quiet -r bench/requirements-quix.txt
	touch $@

bench: $(VENV)/.bench-installed $(QUIX_VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The fault suite at full size (docs/faults.md): its own Redis (26479) and 3-node Kafka
# (29292-29294), stopped at the end; writes tests/faults/results/latest-full.json and the
# table in docs/faults.md. `make test` runs the same suite at its short size.
.PHONY: faults
faults: venv
	$(BIN)/pytest tests/faults --faults-scale=full

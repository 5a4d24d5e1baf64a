# One task runner for people and CI. `make up` runs the pipeline with its console;
# `make test` runs lint, type checks and the whole suite against real Kafka and Redis.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The Rust kernel (eventgate._kernel): rebuilt into the editable install when its sources change.
KERNEL_SRC   := $(shell find kernel/src -name '*.rs' 2>/dev/null) kernel/Cargo.toml kernel/Cargo.lock
KERNEL_STAMP := $(VENV)/.kernel-built
CARGO        ?= cargo
CARGO_ENV    := PYO3_PYTHON=$(abspath $(BIN)/python)

.PHONY: help venv up down services test unit integration lint format typecheck clean bench chromium prometheus kernel-check kernel-lint kernel-test contract

help:
	@echo "make up         run Kafka, Redis, the eventgate worker and API/console (Ctrl-C stops)"
	@echo "make test       lint + type checks + every test (unit and integration)"
	@echo "make unit       unit tests only (no services)"
	@echo "make lint       ruff check and ruff format --check; cargo fmt --check and clippy"
	@echo "make kernel-check  the Rust kernel alone: cargo fmt --check, clippy -D warnings, cargo test"
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
	touch $(STAMP) $(KERNEL_STAMP)

# A change to the kernel's sources rebuilds it in place (cargo, release profile, incremental).
$(KERNEL_STAMP): $(STAMP) $(KERNEL_SRC)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(KERNEL_STAMP)

venv: $(STAMP) $(KERNEL_STAMP)

up: venv
	$(BIN)/eventgate up

services: venv
	$(BIN)/python -m eventgate.devstack up

down: venv
	$(BIN)/python -m eventgate.devstack down

test: lint typecheck kernel-test chromium prometheus
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

lint: venv kernel-lint
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

kernel-lint: venv
	cd kernel && $(CARGO) fmt --check
	cd kernel && $(CARGO_ENV) $(CARGO) clippy --locked --all-targets -- -D warnings

# The kernel's own unit tests (pure Rust; the Python-level tests are in tests/).
kernel-test: venv
	cd kernel && $(CARGO_ENV) $(CARGO) test --locked

kernel-check: kernel-lint kernel-test

format: venv
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests
	cd kernel && $(CARGO) fmt

typecheck: venv
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache kernel/target src/eventgate/_kernel*.so

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

$(VENV)/.bench-installed: $(STAMP) pyproject.toml bench/requirements-profile.txt
	$(BIN)/pip install --quiet -e '.[test,dev,bench]'
	$(BIN)/pip install --quiet -r bench/requirements-profile.txt
	touch $@

$(QUIX_VENV)/.installed: bench/requirements-quix.txt
	$(PYTHON) -m venv $(QUIX_VENV)
	$(QUIX_VENV)/bin/pip install --quiet --upgrade pip
	$(QUIX_VENV)/bin/pip install --quiet -r bench/requirements-quix.txt
	touch $@

bench: $(VENV)/.bench-installed $(KERNEL_STAMP) $(QUIX_VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The fault suite at full size (docs/faults.md): its own Redis (26479) and 3-node Kafka
# (29292-29294), stopped at the end; writes tests/faults/results/latest-full.json and the
# table in docs/faults.md. `make test` runs the same suite at its short size.
.PHONY: faults
faults: venv
	$(BIN)/pytest tests/faults --faults-scale=full

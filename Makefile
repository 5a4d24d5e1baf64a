# One task runner for people and CI. `make up` runs the pipeline with its console;
# `make test` runs lint, type checks and the whole suite against real Kafka and Redis.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv up down services test unit integration lint format typecheck clean

help:
	@echo "make up         run Kafka, Redis, the eventgate worker and API/console (Ctrl-C stops)"
	@echo "make test       lint + type checks + every test (unit and integration)"
	@echo "make unit       unit tests only (no services)"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make typecheck  mypy --strict on src/"
	@echo "make services   start (or reuse) local Kafka and Redis only"
	@echo "make down       stop the local Kafka and Redis that the launcher started"

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

test: lint typecheck
	$(BIN)/pytest

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

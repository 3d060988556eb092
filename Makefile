# Earful's entry points. Each target does its own set-up: a virtual environment
# in .venv with the project installed, and (through the commands themselves) a
# local Kafka broker whose jars Maven resolves once into ~/.cache/earful.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit bench kafka-up kafka-down clean help

help:
	@echo "make demo   run the pipeline end to end on the bundled example incident"
	@echo "make test   lint, type-check and run every test (starts a throw-away Kafka broker)"
	@echo "make bench  run the benchmarks and write bench/results/ and the README table"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/earful demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	bash deploy/scripts/test-prerequisites.sh
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not kafka and not observability"

bench: $(STAMP)
	$(BIN)/python -m bench.run

kafka-up: $(STAMP)
	$(BIN)/earful kafka up

kafka-down: $(STAMP)
	$(BIN)/earful kafka down

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

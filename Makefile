# Staffroom: two commands for a newcomer.
#   make demo   set up, ingest the sample library, open a chat prompt
#   make test   set up, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# torch first, from the pinned CPU build, so nothing later pulls a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/staffroom ingest examples/library
	$(BIN)/staffroom chat

# The type check runs first: CI runs exactly `make test` (.ci/run), so it type-checks too.
test: setup
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/speed.py

clean:
	rm -rf $(VENV) .staffroom .pytest_cache .mypy_cache

# Staffroom: two commands for a newcomer.
#   make demo   set up, ingest the sample library, open a chat prompt
#   make test   set up, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# torch is installed first, as the CPU build, so nothing later pulls PyPI's multi-GB CUDA build.
# tools/torch_source.py picks where from: a local torch-2.13.0+cpu wheel that pip can already
# see or that lies in wheels/ (no network), else PyTorch's CPU index if it answers within 5 s,
# else it stops and says why.
# Choose yourself with the same variables as the Dockerfile's build args, e.g.
#   make setup TORCH_PIP_ARGS='--index-url https://mirror.example/whl/cpu' TORCH_REQ=torch==2.13.0
TORCH_VERSION := 2.13.0
TORCH_INDEX   ?= https://download.pytorch.org/whl/cpu
WHEELS        ?= wheels
ifneq ($(origin TORCH_PIP_ARGS)$(origin TORCH_REQ),undefinedundefined)
TORCH_INSTALL = $(TORCH_PIP_ARGS) '$(or $(TORCH_REQ),torch==$(TORCH_VERSION))'
else
# Asked once, and only when the recipe runs (or is printed by `make -n`).
TORCH_INSTALL = $(eval TORCH_INSTALL := $(shell $(PYTHON) tools/torch_source.py \
	--version $(TORCH_VERSION) --index $(TORCH_INDEX) --venv $(VENV) --wheels $(WHEELS)))$(TORCH_INSTALL)
endif

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(or $(strip $(TORCH_INSTALL)),$(error no source for the CPU torch: see the lines above))
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

# One place for each command. `make setup` once, then `make run` or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PyTorch is installed first and pinned: an unpinned torch pulls several GB of CUDA packages.
# Elsewhere, a CPU-only machine can add: TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
# llama-cpp-python compiles from source. A portable x86-64 build (AVX2, no -march=native):
# native builds crash on CPUs with AMX; the app also guards against that at load time.
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
endif

.PHONY: help setup run test test-fast lint format bench ingest clean browser-deps FORCE

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

EXTRAS ?= dev,llamacpp,formats
# What an install depends on besides pyproject.toml: a change to any of these installs again.
INSTALL_VARS = $(TORCH_SPEC) $(TORCH_INDEX) $(LLAMA_CMAKE_ARGS) $(EXTRAS)
# Touched by a finished install: `make run` and `make test` skip pip while it is newer than
# pyproject.toml and the install variables (an install that fails leaves it as it was).
INSTALLED := $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The install variables of the last install, rewritten only when they differ, so that its date
# says when they last changed (FORCE: compared at every run).
$(VENV)/.install-vars: FORCE | $(BIN)/python
	@echo '$(INSTALL_VARS)' | cmp -s - $@ || echo '$(INSTALL_VARS)' > $@

$(INSTALLED): pyproject.toml $(VENV)/.install-vars | $(BIN)/python
	$(BIN)/pip install -q $(TORCH_INDEX) "$(TORCH_SPEC)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -q -e ".[$(EXTRAS)]"
	touch $@

setup: $(INSTALLED)  ## install the app and its test tools into .venv (again only after a change)

FORCE:

run: setup  ## start the web app on the embedded defaults (http://127.0.0.1:7860)
	$(BIN)/python app.py

ingest:  ## ingest the knowledge folder into the store
	$(BIN)/python -m ingest

test: setup  ## the whole test suite, offline
	$(BIN)/python -m pytest

test-fast:  ## the tests not marked slow, without setup, for quick iterations
	$(BIN)/python -m pytest -x -q -m "not slow"

lint:  ## ruff lint and format check, and the layers' import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format:  ## ruff fix and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench:  ## print the figures recorded in benchmarks/README.md
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

browser-deps:  ## Debian's Chromium for the browser tests (Playwright can't download one here)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

clean:  ## remove the local store and test artifacts
	rm -rf .rag_db .pytest_cache artifacts

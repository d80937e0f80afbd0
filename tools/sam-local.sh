#!/usr/bin/env bash
# The functions in real Lambda containers (SAM CLI), with everything they need:
#   tools/sam-local.sh test    every function by `sam local invoke` with its sample event, compared in process
#   tools/sam-local.sh api     `sam local start-api` on PORT (default 3001) until Ctrl-C
#   tools/sam-local.sh e2e     the provider journeys (pytest -m journey) against `api`, started and stopped here
#   tools/sam-local.sh checks  test, then e2e (what `make test` runs)
# A Docker engine is started when none answers (tools/docker-up.sh, installing Debian's docker.io if needed) and
# stopped again on exit if this script started it; the python3.11 base image is pulled or built offline.
# Expects `sam build` to have run (the Makefile's targets see to it).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
command="${1:-}"
case "$command" in test|api|e2e|checks) ;; *) echo "usage: $0 test|api|e2e|checks" >&2; exit 2 ;; esac

started_docker=0
cleanup() {
  if [ -n "${api_pid:-}" ] && kill -0 "$api_pid" 2>/dev/null; then
    kill -TERM -- "-$api_pid" 2>/dev/null || true
    wait "$api_pid" 2>/dev/null || true
  fi
  if [ "$started_docker" = 1 ]; then tools/docker-down.sh || true; fi
}
trap cleanup EXIT

if ! docker info >/dev/null 2>&1; then started_docker=1; fi
tools/docker-up.sh
t0=$(date +%s)
tools/lambda-base-image.sh
echo "sam-local: base image ready in $(( $(date +%s) - t0 )) s"

answers() {  # the URL answers 2xx (no curl needed)
  "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1" 2>/dev/null
}

run_e2e() {
  local port="${PORT:-3001}" log=.local/sam-api.log
  rm -f .local/sam-api.json
  PORT="$port" setsid "$PY" -m croupier_local.sam_local api >"$log" 2>&1 &
  api_pid=$!
  for _ in $(seq 1 120); do
    if [ -f .local/sam-api.json ] && answers "http://127.0.0.1:$port/health"; then break; fi
    if ! kill -0 "$api_pid" 2>/dev/null; then echo "sam-local: sam-api exited:" >&2; tail -40 "$log" >&2; return 1; fi
    sleep 1
  done
  answers "http://127.0.0.1:$port/health" \
    || { echo "sam-local: sam-api did not answer /health in 120 s:" >&2; tail -40 "$log" >&2; return 1; }
  echo "sam-local: the journeys against sam local start-api on :$port (Lambda containers)"
  local status=0
  CROUPIER_E2E_TARGET=sam-api .venv/bin/pytest -m journey tests/e2e/test_journeys.py -p no:cacheprovider || status=$?
  kill -TERM -- "-$api_pid" 2>/dev/null || true
  wait "$api_pid" 2>/dev/null || true
  api_pid=
  if [ "$status" != 0 ]; then echo "sam-local: the journeys failed against sam-api; its log:" >&2; tail -60 "$log" >&2; fi
  return "$status"
}

case "$command" in
  test) "$PY" -m croupier_local.sam_local test ;;
  api) "$PY" -m croupier_local.sam_local api ;;
  e2e) run_e2e ;;
  checks) "$PY" -m croupier_local.sam_local test && run_e2e ;;
esac

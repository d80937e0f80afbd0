#!/usr/bin/env bash
# Stops the dockerd that tools/docker-up.sh started (its pid is in .local/dockerd.started), and nothing else:
# an engine that was already running before docker-up.sh (systemd, Docker Desktop, another user) is left alone.
set -euo pipefail

cd "$(dirname "$0")/.."
MARKER="$PWD/.local/dockerd.started"

if [ ! -f "$MARKER" ]; then
  echo "docker: no .local/dockerd.started; tools/docker-up.sh did not start an engine, leaving Docker alone"
  exit 0
fi
pid="$(cat "$MARKER")"
if ! kill -0 "$pid" 2>/dev/null; then
  echo "docker: dockerd pid $pid from .local/dockerd.started is gone already"
  rm -f "$MARKER"
  exit 0
fi
# Guard against a recycled pid: only signal the process if it still is dockerd.
if [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != "dockerd" ]; then
  echo "docker: pid $pid is no longer dockerd ($(cat "/proc/$pid/comm" 2>/dev/null || echo '?')); not touching it"
  rm -f "$MARKER"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
echo "docker: stopping dockerd pid $pid (started by tools/docker-up.sh)"
"${SUDO[@]}" kill -TERM "$pid"
for _ in $(seq 1 30); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$MARKER"; echo "docker: stopped"; exit 0; }
  sleep 1
done
echo "docker: dockerd pid $pid did not stop within 30 s; left running (kill -KILL $pid if you must)" >&2
exit 1

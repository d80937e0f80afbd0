#!/usr/bin/env bash
# Makes a Docker engine available for `sam local invoke` / `sam local start-api`.
#
# - If `docker info` already answers: nothing to do.
# - Else, if `dockerd` is missing: install Debian's docker.io with apt-get (a docker CLI alone, e.g. at
#   /usr/local/bin/docker, is not an engine).
# - Start dockerd in the background, log to .local/dockerd.log, wait (bounded) until `docker info` answers,
#   and record its pid in .local/dockerd.started so that tools/docker-down.sh stops only a dockerd
#   started here.
set -euo pipefail

cd "$(dirname "$0")/.."
LOCAL_DIR="$PWD/.local"
LOG="$LOCAL_DIR/dockerd.log"
MARKER="$LOCAL_DIR/dockerd.started"
WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"

fail() {
  echo "tools/docker-up.sh: Docker cannot run here: $1" >&2
  echo "What to do: $2" >&2
  exit 1
}

if docker info >/dev/null 2>&1; then
  echo "docker: engine already answering ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?')); nothing to do"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi

if ! command -v dockerd >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 \
    || fail "no dockerd and no apt-get to install one." \
            "install a Docker engine (e.g. Debian's docker.io) by hand, start it, and re-run this script."
  if [ "${#SUDO[@]}" -gt 0 ] && ! sudo -n true 2>/dev/null; then
    fail "dockerd is missing and installing it needs root, but this user is not root and sudo asks for a password." \
         "run 'sudo apt-get install docker.io' (or this script as root) once, then re-run it."
  fi
  echo "docker: no dockerd; installing Debian's docker.io with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { "${SUDO[@]}" apt-get install -y -q --no-install-recommends docker.io; }
  # apt's package lists may be stale or absent: update once and retry.
  apt_install || { "${SUDO[@]}" apt-get update -q && apt_install; } \
    || fail "apt-get could not install docker.io (see the apt output above)." \
            "check that the Debian mirror in /etc/apt/sources.list(.d) is reachable, then re-run."
  command -v dockerd >/dev/null 2>&1 || fail "docker.io installed but no dockerd on PATH." "check 'dpkg -L docker.io'."
fi

if [ "${#SUDO[@]}" -gt 0 ] && ! sudo -n true 2>/dev/null; then
  fail "dockerd must start as root, and this user is not root and sudo asks for a password." \
       "start the engine yourself ('sudo dockerd &' or 'sudo systemctl start docker') and re-run."
fi

mkdir -p "$LOCAL_DIR"
if [ -f "$MARKER" ] && kill -0 "$(cat "$MARKER")" 2>/dev/null; then
  echo "docker: dockerd started earlier by this script is still running (pid $(cat "$MARKER")); waiting for it"
else
  # A stale pid file from an engine that died without cleaning up stops a new one from starting.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    "${SUDO[@]}" rm -f /var/run/docker.pid
  fi
  echo "docker: starting dockerd (log: ${LOG#"$PWD"/})"
  # setsid: dockerd outlives this script and the terminal that ran it.
  "${SUDO[@]}" setsid dockerd >>"$LOG" 2>&1 </dev/null &
  echo $! >"$MARKER"
fi

# With sudo, $! is sudo's pid; the dockerd pid is written by dockerd itself to /var/run/docker.pid.
deadline=$((SECONDS + WAIT_SECONDS))
until docker info >/dev/null 2>&1; do
  if ! kill -0 "$(cat "$MARKER")" 2>/dev/null; then
    rm -f "$MARKER"
    echo "---- last lines of ${LOG#"$PWD"/} ----" >&2
    tail -n 20 "$LOG" >&2 || true
    fail "dockerd exited right after starting (its log is above)." \
         "this machine may lack what the engine needs (cgroups, overlay/iptables kernel support, root in a real VM rather than an unprivileged container); read .local/dockerd.log, fix the cause, or run the functions with the in-process local stack (make dev) instead."
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "dockerd did not answer 'docker info' within ${WAIT_SECONDS}s (it is still running; see .local/dockerd.log)." \
         "read .local/dockerd.log; stop it with tools/docker-down.sh, fix the cause, and re-run."
  fi
  sleep 1
done
if [ -r /var/run/docker.pid ]; then cat /var/run/docker.pid >"$MARKER"; fi
echo "docker: engine up ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}}'); dockerd pid $(cat "$MARKER"), started by this script)"

#!/usr/bin/env bash
# Makes sure Docker has an image tagged public.ecr.aws/lambda/python:3.11-x86_64, the base SAM builds every
# python3.11/x86_64 function's local image FROM (`sam local invoke|start-api --skip-pull-image` uses it).
#
#   1. Already present locally: nothing to do.
#   2. Else `docker pull` it (bounded by PULL_TIMEOUT, 60 s): the official image.
#   3. Else (no registry reachable) build an offline stand-in from Debian packages:
#      debootstrap --variant=minbase bookworm from the host's own Debian mirror, python3.11 + pip +
#      ca-certificates, awslambdaric and boto3 pip-installed (pinned) into /var/runtime, the Lambda
#      layout (/var/runtime/bootstrap, /lambda-entrypoint.sh, /var/task, /opt), then `docker import`.
#      The root filesystem tarball is cached in .local/lambda-image/ keyed by a hash of this script, the
#      pins and the mirror, so a re-run only re-imports it.
#
# How SAM runs it (SAM CLI 1.170.0, samcli/local/docker/lambda_image.py and lambda_container.py): SAM builds
# `FROM <this image>` + `ADD aws-lambda-rie-x86_64 /var/rapid/` + a `RUN mv ... /var/rapid/aws-lambda-rie &&
# chmod +x` (so the base needs /bin/sh, mv, chmod) + the layers under /opt, then creates each function's
# container with ENTRYPOINT overridden to ["/var/rapid/aws-lambda-rie", "--log-level", "error"], no command,
# the function code mounted on /var/task and AWS_LAMBDA_FUNCTION_HANDLER=<Handler> in the environment. The
# emulator, given no command, runs the first of /var/task/bootstrap, /opt/bootstrap, /var/runtime/bootstrap.
# So under SAM /lambda-entrypoint.sh is not used; it is there so the image also runs on its own
# (`docker run IMAGE app.handler`), like the official one.
#
# Options: --rebuild   ignore an existing local image and the pull; rebuild (the rootfs cache still applies)
#          --no-cache  also ignore the cached rootfs tarball
set -euo pipefail

IMAGE="public.ecr.aws/lambda/python:3.11-x86_64"
PULL_TIMEOUT="${PULL_TIMEOUT:-60}"
SUITE="bookworm"
AWSLAMBDARIC_PIN="awslambdaric==4.2.2 simplejson==4.3.0 snapshot-restore-py==1.0.0"
# boto3 and its dependencies at the versions requirements/dev.txt pins (the same as the layer's).
BOTO_NAMES="boto3 botocore s3transfer jmespath python-dateutil six urllib3"

cd "$(dirname "$0")/.."
SCRIPT="$PWD/tools/lambda-base-image.sh"
CACHE_DIR="$PWD/.local/lambda-image"

rebuild=0
use_cache=1
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=1 ;;
    --no-cache) rebuild=1; use_cache=0 ;;
    *) echo "usage: $0 [--rebuild] [--no-cache]" >&2; exit 2 ;;
  esac
done

say() { echo "lambda-image: $*"; }
die() { echo "lambda-image: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers 'docker info'; run tools/docker-up.sh (make docker) first."

if [ "$rebuild" -eq 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  what="$(docker image inspect --format '{{index .Config.Labels "croupier.lambda-image"}}' "$IMAGE" 2>/dev/null || true)"
  say "$IMAGE already present locally (${what:-not built by this script}); nothing to do (--rebuild to rebuild)"
  exit 0
fi

start=$SECONDS
if [ "$rebuild" -eq 0 ]; then
  say "trying 'docker pull $IMAGE' (timeout ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull "$IMAGE"; then
    say "pulled official image $IMAGE in $((SECONDS - start)) s"
    exit 0
  fi
  say "pull failed (no registry reachable?); building an offline stand-in from Debian $SUITE"
fi

[ "$(id -u)" -eq 0 ] || die "building the stand-in needs root (debootstrap, chroot); run as root or pull the official image on a networked machine and 'docker load' it."

# --- inputs: pins and the host's Debian mirror ---------------------------------------------------------------
boto_pins=""
for name in $BOTO_NAMES; do
  pin="$(grep -ihE "^${name}==" requirements/dev.txt layers/croupier/requirements.txt 2>/dev/null | head -n1 || true)"
  [ -n "$pin" ] || die "no pin for $name in requirements/dev.txt or layers/croupier/requirements.txt"
  boto_pins+="$pin "
done

# The host's apt sources (one-line *.list and deb822 *.sources) for bookworm, bookworm-updates and
# bookworm-security, as one-line "deb URI SUITE main" entries. Only the files apt itself reads.
host_sources() {
  python3 - "$SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources <<'PY'
import re, sys
suite, files = sys.argv[1], sys.argv[2:]
wanted = {suite, f"{suite}-updates", f"{suite}-security"}
out = []
def add(types, uris, suites, comps):
    if "deb" in types and "main" in comps:
        for u in uris:
            for s in suites:
                if s in wanted and (u, s) not in {(a, b) for a, b in out}:
                    out.append((u, s))
for path in files:
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        continue
    if path.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0].isspace() and key:
                    fields[key] += " " + line.strip()
                elif ":" in line:
                    key, _, value = line.partition(":")
                    key = key.strip().lower()
                    fields[key] = value.strip()
            if fields.get("enabled", "yes").lower() == "no":
                continue
            add(fields.get("types", "").split(), fields.get("uris", "").split(),
                fields.get("suites", "").split(), fields.get("components", "").split())
    else:
        for line in text.splitlines():
            line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(line) >= 4:
                add([line[0]], [line[1]], [line[2]], line[3:])
for u, s in out:
    print(f"deb {u} {s} main")
PY
}
sources="$(host_sources)"
mirror="$(awk -v s="$SUITE" '$3 == s { print $2; exit }' <<<"$sources")"
[ -n "$mirror" ] || die "no Debian '$SUITE' mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/*; add the one this machine uses."

key="$( { cat "$SCRIPT"; echo "$boto_pins"; echo "$sources"; } | sha256sum | cut -c1-16)"
tarball="$CACHE_DIR/rootfs-$key.tar"
mkdir -p "$CACHE_DIR"

# --- the root filesystem ------------------------------------------------------------------------------------
if [ "$use_cache" -eq 1 ] && [ -s "$tarball" ]; then
  say "using cached root filesystem ${tarball#"$PWD"/}"
else
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends debootstrap \
      || { apt-get update -q && apt-get install -y -q --no-install-recommends debootstrap; } \
      || die "apt-get could not install debootstrap"
  fi
  root="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
  chmod 755 "$root" # mktemp's 0700 would become the image's "/" (and locks apt's _apt sandbox user out)
  cleanup() {
    # Unmount before removing anything, so rm can never reach the host through a mount.
    if mountpoint -q "$root/proc"; then umount -l "$root/proc" || true; fi
    if mountpoint -q "$root/proc"; then echo "lambda-image: $root/proc still mounted; left $root in place" >&2; return; fi
    rm -rf "$root"
  }
  trap cleanup EXIT

  say "debootstrap --variant=minbase $SUITE from $mirror (log: ${root#"$PWD"/}.debootstrap.log)"
  if ! debootstrap --variant=minbase --include=python3.11,python3-pip,ca-certificates \
      "$SUITE" "$root" "$mirror" >"$root.debootstrap.log" 2>&1; then
    tail -n 20 "$root.debootstrap.log" >&2
    die "debootstrap failed (log above and in ${root#"$PWD"/}.debootstrap.log)"
  fi
  rm -f "$root.debootstrap.log"

  mount -t proc proc "$root/proc"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # The host's CA bundle: PyPI may be reached through a TLS-inspecting proxy only the host's bundle trusts.
  host_ca="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
  cp "$host_ca" "$root/tmp/host-ca.crt"
  in_root() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
                DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"; }

  # Security and point-release updates from the same mirrors the host uses.
  printf '%s\n' "$sources" >"$root/etc/apt/sources.list"
  say "apt-get upgrade inside the root filesystem ($(awk '{print $3}' <<<"$sources" | paste -sd' '))"
  if ! in_root sh -c 'apt-get update -q && apt-get upgrade -y -q --no-install-recommends' >"$root.apt.log" 2>&1; then
    tail -n 20 "$root.apt.log" >&2
    die "apt-get upgrade inside the root filesystem failed (log above and in ${root#"$PWD"/}.apt.log)"
  fi
  rm -f "$root.apt.log"

  say "pip install into /var/runtime: $AWSLAMBDARIC_PIN $boto_pins"
  # env -i: the host's PIP_* settings (find-links, extra indexes under /opt) do not exist in the chroot.
  # shellcheck disable=SC2086  # the pins are words
  in_root env PIP_CERT=/tmp/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=60 \
    python3.11 -m pip install --quiet --root-user-action=ignore --no-cache-dir --no-compile --target /var/runtime \
    $AWSLAMBDARIC_PIN $boto_pins
  in_root python3.11 -m compileall -q /var/runtime >/dev/null || true

  mkdir -p "$root/var/task" "$root/opt" "$root/var/rapid" "$root/var/lang/bin"
  ln -sf /usr/bin/python3.11 "$root/var/lang/bin/python3.11"
  ln -sf python3.11 "$root/var/lang/bin/python3"
  ln -sf python3.11 "$root/var/lang/bin/python"
  cat >"$root/var/runtime/bootstrap" <<'SH'
#!/bin/sh
# Runtime bootstrap of the offline python3.11 stand-in (tools/lambda-base-image.sh): the awslambdaric client.
# The handler comes from _HANDLER (/lambda-entrypoint.sh), else AWS_LAMBDA_FUNCTION_HANDLER (SAM sets it).
export PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}:/opt/python:/var/runtime${PYTHONPATH:+:$PYTHONPATH}"
_HANDLER="${_HANDLER:-${AWS_LAMBDA_FUNCTION_HANDLER:-}}"
[ -n "$_HANDLER" ] || { echo "bootstrap: no handler (_HANDLER / AWS_LAMBDA_FUNCTION_HANDLER unset)" >&2; exit 142; }
export _HANDLER
cd "${LAMBDA_TASK_ROOT:-/var/task}"
exec /usr/bin/python3.11 -m awslambdaric "$_HANDLER"
SH
  # What `sam local invoke --debug-port` runs for python3.11: /var/lang/bin/python3.11 [debugger args] bootstrap.py
  cat >"$root/var/runtime/bootstrap.py" <<'PY'
"""Entry used by `sam local invoke --debug-port` on the offline stand-in image: awslambdaric, handler from env."""

import os
import sys

task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
for path in reversed((task_root, "/opt/python", "/var/runtime")):
    if path not in sys.path:
        sys.path.insert(0, path)

from awslambdaric import bootstrap  # noqa: E402

handler = os.environ.get("_HANDLER") or os.environ["AWS_LAMBDA_FUNCTION_HANDLER"]
bootstrap.run(task_root, handler, os.environ["AWS_LAMBDA_RUNTIME_API"])
PY
  cat >"$root/lambda-entrypoint.sh" <<'SH'
#!/bin/sh
# Entry point of the offline python3.11 stand-in image, like the official image's: the handler is the one
# argument; outside Lambda (no AWS_LAMBDA_RUNTIME_API) the Runtime Interface Emulator serves on :8080.
# SAM overrides this entry point with /var/rapid/aws-lambda-rie, which it adds to the image it builds.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  for rie in /var/rapid/aws-lambda-rie /usr/local/bin/aws-lambda-rie; do
    [ -x "$rie" ] && exec "$rie" "$RUNTIME_ENTRYPOINT"
  done
  echo "no Runtime Interface Emulator in /var/rapid or /usr/local/bin (SAM adds it; or mount one) and AWS_LAMBDA_RUNTIME_API is unset" 1>&2
  exit 142
fi
exec "$RUNTIME_ENTRYPOINT"
SH
  chmod 755 "$root/var/runtime/bootstrap" "$root/lambda-entrypoint.sh"

  # Smaller: no apt caches or lists, docs, man pages, non-English locales; nothing host-specific left behind.
  in_root apt-get clean
  umount "$root/proc"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/root/.cache
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name 'locale.alias' -exec rm -rf {} +
  : >"$root/etc/resolv.conf"
  printf 'lambda\n' >"$root/etc/hostname"

  tar -C "$root" --numeric-owner --xattrs -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  # Older tarballs of this script are stale.
  find "$CACHE_DIR" -maxdepth 1 -name 'rootfs-*.tar' ! -name "rootfs-$key.tar" -delete
  say "root filesystem cached as ${tarball#"$PWD"/} ($(du -h "$tarball" | cut -f1))"
fi

old_id="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
docker import \
  --change 'ENV LANG=en_US.UTF-8' \
  --change 'ENV TZ=:/etc/localtime' \
  --change 'ENV PATH=/var/lang/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
  --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
  --change 'WORKDIR /var/task' \
  --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
  --change "LABEL croupier.lambda-image=offline-stand-in-debian-$SUITE-$key" \
  --message "offline stand-in for $IMAGE built by tools/lambda-base-image.sh from Debian $SUITE" \
  "$tarball" "$IMAGE" >/dev/null
new_id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
# The stand-in it replaces is untagged now; drop it unless SAM's images still build on it.
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ] \
   && [ -n "$(docker image inspect --format '{{index .Config.Labels "croupier.lambda-image"}}' "$old_id" 2>/dev/null)" ]; then
  docker image rm "$old_id" >/dev/null 2>&1 || say "previous stand-in ${old_id:7:12} kept (images built on it still use it)"
fi
size="$(docker image inspect --format '{{.Size}}' "$IMAGE")"
say "built offline stand-in from Debian $SUITE as $IMAGE in $((SECONDS - start)) s ($((size / 1000000)) MB)"

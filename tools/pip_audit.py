"""``make audit``'s dependency check: pip-audit over every pinned requirement file, against PyPI's vulnerability
data, with the reviewed exceptions of ``requirements/pip-audit-ignore.txt``.

pip-audit asks ``https://pypi.org/pypi/<name>/<version>/json`` for each pin. When that service cannot be
reached it reports the packages as "not found" and audits nothing, which must not read as a pass: this script
checks the service first and fails with a clear message when it is unreachable (exit 2). ``SKIP_PIP_AUDIT=1``
skips the check on purpose, saying so loudly (exit 0): for a network where PyPI's JSON API is blocked.
``PIP_AUDIT_IF_UNREACHABLE=warn`` (set by ``make test``) turns the unreachable case into that loud warning:
CI's network reaches PyPI's package index but not this API, and CI must not be red for what it cannot see.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ["layers/croupier/requirements.txt", "requirements/dev.txt", "requirements/sam.txt"]
IGNORE_FILE = REPO_ROOT / "requirements" / "pip-audit-ignore.txt"
PROBE = "https://pypi.org/pypi/{name}/{version}/json"


def ignored() -> list[str]:
    """Vulnerability ids of the ignore file: ``ID  # reason`` per line; a line without a reason is an error."""
    ids = []
    for number, line in enumerate(IGNORE_FILE.read_text(encoding="utf-8").splitlines(), 1):
        entry, _, reason = line.partition("#")
        if not entry.strip():
            continue
        if not reason.strip():
            raise SystemExit(f"{IGNORE_FILE.name}:{number}: an ignored vulnerability needs its reason after '#'")
        ids.append(entry.strip())
    return ids


def first_pin(path: Path) -> tuple[str, str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+).*", line.strip())
        if match:
            return match.group(1), match.group(2)
    raise SystemExit(f"{path}: no pinned requirement found")


def service_reachable() -> str | None:
    """None when PyPI answers a version's JSON (with its vulnerabilities), else what went wrong."""
    name, version = first_pin(REPO_ROOT / REQUIREMENTS[0])
    url = PROBE.format(name=name, version=version)
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310 - a fixed https URL
            if b'"vulnerabilities"' in answer.read():
                return None
            return f"{url} answered without vulnerability data"
    except (urllib.error.URLError, TimeoutError) as error:
        return f"{url}: {error}"


def main() -> int:
    if os.environ.get("SKIP_PIP_AUDIT") == "1":
        print("!! SKIP_PIP_AUDIT=1: the dependencies were NOT audited for known vulnerabilities.", file=sys.stderr)
        return 0
    problem = service_reachable()
    if problem is not None and os.environ.get("PIP_AUDIT_IF_UNREACHABLE") == "warn":
        print(
            "!" * 100 + "\n!! The dependencies were NOT audited for known vulnerabilities: PyPI's vulnerability\n"
            f"!! service is not reachable from here ({problem}).\n"
            "!! Run `make audit` where it is.\n" + "!" * 100,
            file=sys.stderr,
        )
        return 0
    if problem is not None:
        print(
            "pip-audit cannot run: PyPI's vulnerability service is not reachable from here, so nothing could be\n"
            f"audited ({problem}).\nRun `make audit` where pypi.org/pypi/<name>/<version>/json is reachable, or "
            "set SKIP_PIP_AUDIT=1 to skip it knowingly.",
            file=sys.stderr,
        )
        return 2
    command = [str(Path(sys.executable).parent / "pip-audit"), "--strict", "--no-deps", "--disable-pip"]
    command += ["--progress-spinner", "off", "--vulnerability-service", "pypi"]
    for path in REQUIREMENTS:
        command += ["-r", str(REPO_ROOT / path)]
    for vulnerability in ignored():
        command += ["--ignore-vuln", vulnerability]
    return subprocess.call(command)  # noqa: S603 - our own argument list


if __name__ == "__main__":
    raise SystemExit(main())

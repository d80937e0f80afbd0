"""The wheel ``pip install .`` builds holds every package and module of ``croupier`` and ``croupier_local``:
it is built (as pip builds it) and every module is imported from the unpacked wheel, not from this tree."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOTS = {
    "croupier": REPO_ROOT / "layers" / "croupier" / "croupier",
    "croupier_local": REPO_ROOT / "local" / "croupier_local",
}


def modules_in_tree() -> list[str]:
    found = []
    for name, root in ROOTS.items():
        for path in sorted(root.rglob("*.py")):
            parts = [name, *path.relative_to(root).with_suffix("").parts]
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = out.glob("croupier-*.whl")
    target = out / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def test_the_wheel_holds_every_module_of_the_tree(unpacked_wheel: Path) -> None:
    in_wheel = {
        ".".join(path.relative_to(unpacked_wheel).with_suffix("").parts).removesuffix(".__init__")
        for path in unpacked_wheel.rglob("*.py")
    }
    assert set(modules_in_tree()) - in_wheel == set()


def test_every_module_imports_from_the_wheel(unpacked_wheel: Path) -> None:
    script = (
        "import importlib, json, sys\n"
        "files = {name: importlib.import_module(name).__file__ for name in json.loads(sys.argv[1])}\n"
        "print(json.dumps(files))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(modules_in_tree())],
        capture_output=True,
        text=True,
        check=False,
        cwd=unpacked_wheel,  # the wheel's files come first on sys.path, before any editable install
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(unpacked_wheel), "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    files = json.loads(done.stdout)
    outside = {name: file for name, file in files.items() if not str(file).startswith(str(unpacked_wheel))}
    assert outside == {}

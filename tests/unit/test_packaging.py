"""What each way of installing Croupier holds.

* The wheel ``pip install .`` builds holds every package and module of ``croupier``, ``croupier_cli`` and
  ``croupier_local``: it is built (as pip builds it) and every module is imported from the unpacked wheel, not
  from this tree; its ``croupier`` command runs ``croupier_cli``.
* The Lambda layer holds only what runs in Lambda: the files SAM's own builder (aws-lambda-builders, as
  ``sam build`` runs it for the layer's ``ContentUri`` and ``BuildMethod``) copies hold no command line, no Ruby
  Team API or RabbitX client, and its requirements no eth-account.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from croupier_local.template import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOTS = {
    "croupier": REPO_ROOT / "layers" / "croupier" / "croupier",
    "croupier_cli": REPO_ROOT / "cli" / "croupier_cli",
    "croupier_local": REPO_ROOT / "local" / "croupier_local",
}
SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"
NOT_IN_LAMBDA = ("croupier_cli", "croupier/cli.py", "croupier/clients/ruby_team.py", "croupier/clients/rabbitx.py")
"""The operator's command line and the clients only it calls (before issue 17 the first three were in the layer)."""

# SAM's python builder for a layer: the source copied (with its excludes) and the requirements installed into
# the layer's python/ folder. The manifest given here is empty: what is checked is the copy, not pip.
LAYER_BUILD = """
import json, pathlib, sys, tempfile
from aws_lambda_builders.builder import LambdaBuilder
source, artifacts, runtime = sys.argv[1:4]
with tempfile.TemporaryDirectory() as scratch:
    manifest = pathlib.Path(scratch) / "requirements.txt"
    manifest.write_text("")
    LambdaBuilder(language="python", dependency_manager="pip", application_framework=None).build(
        source, artifacts, scratch, str(manifest), runtime=runtime, architecture="x86_64"
    )
files = [p.relative_to(artifacts).as_posix() for p in pathlib.Path(artifacts).rglob("*") if p.is_file()]
print(json.dumps(sorted(files)))
"""


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


def test_the_wheel_runs_the_command_line_from_croupier_cli(unpacked_wheel: Path) -> None:
    (entry_points,) = unpacked_wheel.glob("croupier-*.dist-info/entry_points.txt")
    assert "croupier = croupier_cli.cli:main" in entry_points.read_text().splitlines()


def layer_resource() -> dict[str, object]:
    layer = load_yaml(REPO_ROOT / "template.yaml")["Resources"]["CroupierLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    return dict(layer)


@pytest.mark.skipif(not SAM_PYTHON.exists(), reason="SAM CLI's virtualenv (.venv-sam, make setup) is not installed")
def test_the_layer_sam_builds_holds_no_command_line(tmp_path: Path) -> None:
    layer = layer_resource()
    source = REPO_ROOT / str(layer["Properties"]["ContentUri"])  # type: ignore[index]
    runtime = layer["Metadata"]["BuildMethod"]  # type: ignore[index]
    built = subprocess.run(
        [str(SAM_PYTHON), "-c", LAYER_BUILD, str(source), str(tmp_path / "python"), runtime],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert built.returncode == 0, built.stderr[-2000:]
    files = json.loads(built.stdout.splitlines()[-1])
    assert "croupier/ledger/service.py" in files  # the builder did copy the layer's package
    assert [f for f in files if f.startswith(NOT_IN_LAMBDA)] == []
    requirements = (source / "requirements.txt").read_text().lower()
    assert "eth-account" not in requirements
    assert "eth_account" not in requirements

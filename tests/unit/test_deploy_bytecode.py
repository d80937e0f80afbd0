"""The bytecode ``make build`` compiles reaches Lambda and is what runs there.

``sam build`` ships no ``.pyc``, and Lambda's code directories are read-only, so without them every cold start
compiles what it imports (ruby_debit: 960 ms against 265 ms). ``make build`` runs ``compileall`` on the build.
Two things could still throw that away on the way to AWS, and both are checked here with SAM CLI's own code:
- ``sam deploy`` zips the build with ``samcli.lib.package.utils.make_zip_with_lambda_permissions``, which
  could leave ``__pycache__`` out;
- a zip stores no real modification times, so a timestamp-checked ``.pyc`` would no longer match its source
  after unpacking and would be compiled again. ``--invalidation-mode unchecked-hash`` makes Python use the
  ``.pyc`` as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"
MAKEFILE = (REPO_ROOT / "Makefile").read_text()


def sam_zip(folder: Path, name: Path) -> Path:
    """``folder`` zipped as ``sam deploy`` zips a function's or a layer's build directory."""
    script = (
        "import sys\n"
        "from samcli.lib.package.utils import make_zip_with_lambda_permissions\n"
        "print(make_zip_with_lambda_permissions(sys.argv[1], sys.argv[2]))\n"
    )
    made = subprocess.run(
        [str(SAM_PYTHON), "-c", script, str(name), str(folder)], capture_output=True, text=True, check=True
    )
    return Path(made.stdout.strip())


def test_make_build_compiles_with_hashes_that_no_unpacked_mtime_can_invalidate() -> None:
    assert "-m compileall" in MAKEFILE
    assert "--invalidation-mode unchecked-hash .aws-sam/build" in MAKEFILE


@pytest.mark.skipif(not SAM_PYTHON.exists(), reason="SAM CLI's venv (.venv-sam) is made by make setup")
def test_the_compiled_bytecode_survives_sams_zip_and_is_what_python_runs_after_unpacking(tmp_path: Path) -> None:
    # Given a build directory compiled as make build compiles it
    build = tmp_path / "build" / "python"
    build.mkdir(parents=True)
    (build / "shipped.py").write_text("ANSWER = 'from the bytecode'\n")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(tmp_path / "build")],
        check=True,
    )
    # When sam deploy zips it and Lambda unpacks it (every time in the zip is 1980-01-01)
    archive = sam_zip(tmp_path / "build", tmp_path / "artifact")
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        zipped.extractall(tmp_path / "opt")
    assert f"python/__pycache__/shipped.cpython-{sys.version_info[0]}{sys.version_info[1]}.pyc" in names
    unpacked = tmp_path / "opt" / "python"
    # (the source changed after compiling: only a .pyc taken as it is gives the old answer)
    (unpacked / "shipped.py").write_text("ANSWER = 'compiled again from the source'\n")
    os.utime(unpacked / "shipped.py", (0, 0))

    # Then Python runs the shipped bytecode, not a fresh compile of the source
    ran = subprocess.run(
        [sys.executable, "-B", "-c", "import shipped; print(shipped.ANSWER)"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(unpacked)},
    )
    assert ran.stdout.strip() == "from the bytecode"

"""Cold-start import time of every handler next to a bare ``import boto3`` plus a client, in the same run.

Each measurement is a fresh interpreter (``python -c``) with ``PYTHONPATH`` as Lambda sets it (the layer,
then the function's own folder), timing the import of ``app`` from inside (the interpreter's own start-up
is the same for both sides and left out). The figure is the median of ``REPEATS`` runs; the goal is a
handler import of at most 1.5x the baseline.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "croupier"
REPEATS = 7
GOAL = 1.5

TIMED_IMPORT = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
BASELINE = (
    "import time; t = time.perf_counter(); import boto3; boto3.client('dynamodb', region_name='us-east-1'); "
    "print(time.perf_counter() - t)"
)


def handlers() -> list[str]:
    return sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))


def lambda_env(function_dir: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(LAYER), str(function_dir)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "benchdevonly",
        "AWS_SECRET_ACCESS_KEY": "benchdevonly",
        "WALLET_TABLE": "WalletTable",
        "RGS_TABLE": "RgsTable",
        "POWERTOOLS_SERVICE_NAME": "croupier",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    return env


def timed(code: str, cwd: Path, repeats: int = REPEATS) -> float:
    """Median seconds of ``code``'s own timing over fresh interpreters (bytecode caches warm, like a
    deployed package, after one untimed run)."""
    env = lambda_env(cwd)
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True, capture_output=True)  # noqa: S603
    samples = []
    for _ in range(repeats):
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], cwd=cwd, env=env, check=True, capture_output=True, text=True
        )
        samples.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def measure(repeats: int = REPEATS, names: list[str] | None = None) -> tuple[float, dict[str, float]]:
    baseline = timed(BASELINE, ROOT, repeats)
    found = {name: timed(TIMED_IMPORT, ROOT / "functions" / name, repeats) for name in names or handlers()}
    return baseline, found


def main(repeats: int = REPEATS) -> dict[str, object]:
    baseline, found = measure(repeats)
    print(f"cold-start import (median of {repeats} fresh interpreters; baseline: import boto3 + a DynamoDB client)")
    print(f"{'handler':<28}{'ms':>8}{'x boto3':>9}")
    print(f"{'(baseline)':<28}{baseline * 1000:>8.0f}{1:>9.2f}")
    for name, seconds in found.items():
        flag = "" if seconds / baseline <= GOAL else "  over goal"
        print(f"{name:<28}{seconds * 1000:>8.0f}{seconds / baseline:>9.2f}{flag}")
    return {"baseline_ms": baseline * 1000, "ratio": {name: seconds / baseline for name, seconds in found.items()}}


if __name__ == "__main__":
    main()

"""Cold-start import time of every handler next to a bare ``import boto3`` plus a client, in the same run.

Each measurement is a fresh interpreter (``python -c``) with the environment Lambda gives it (``PYTHONPATH``: the
layer, then the function's own folder; ``LAMBDA_TASK_ROOT``), timing the import of ``app`` from inside (the
interpreter's own start-up is the same for both sides and left out). The figure is the median of ``REPEATS``
runs; the goal is a handler import of at most ``GOAL`` times the baseline.

Three figures per handler, each against the same baseline:

* ``deployed``: ``import app`` as the template deploys it (its ``XRaySdk`` parameter's default, read from
  template.yaml: ``false``, so aws-xray-sdk is never imported). This is the figure the goal applies to.
* ``xray on``: the same with ``XRaySdk=true`` (the Powertools Tracer created and botocore patched at import,
  tracing enabled as in Lambda).
* ``+client``: the deployed import followed by ``import boto3`` and a DynamoDB client, which every function but
  ``health`` and the page makes on its first request: the whole cold path before the first AWS call. The
  handlers create their clients lazily, so this column is what moving an import out of module level cannot hide.

Bytecode caches are warm (one untimed run writes them). ``sam build`` ships a layer without ``.pyc`` files
and ``/opt`` is read-only in Lambda, so there every cold start also compiles what it imports; the last two lines
measure that for the baseline and one handler (an empty ``PYTHONPYCACHEPREFIX``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from croupier_local.template import load_yaml

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "croupier"
REPEATS = 7
GOAL = 1.3

TIMED_IMPORT = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
BASELINE = (
    "import time; t = time.perf_counter(); import boto3; boto3.client('dynamodb', region_name='us-east-1'); "
    "print(time.perf_counter() - t)"
)
WITH_CLIENT = (
    "import time; t = time.perf_counter(); import app; import boto3; "
    "boto3.client('dynamodb', region_name='us-east-1'); print(time.perf_counter() - t)"
)
NO_BYTECODE_HANDLER = "ruby_debit"


def deployed_xray_sdk() -> bool:
    """The template's default for ``XRaySdk``: what a deploy without an override runs."""
    parameters = load_yaml(ROOT / "template.yaml")["Parameters"]
    return str(parameters["XRaySdk"]["Default"]).lower() == "true"


def handlers() -> list[str]:
    return sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))


def lambda_env(function_dir: Path, *, xray_sdk: bool | None = None) -> dict[str, str]:
    """Lambda's variables for a function (tracing active, as ``Tracing: Active`` sets it); ``xray_sdk`` defaults to
    the template's ``XRaySdk``."""
    sdk = deployed_xray_sdk() if xray_sdk is None else xray_sdk
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(LAYER), str(function_dir)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(function_dir),
        "AWS_LAMBDA_FUNCTION_NAME": function_dir.name,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "benchdevonly",
        "AWS_SECRET_ACCESS_KEY": "benchdevonly",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "WALLET_TABLE": "WalletTable",
        "RGS_TABLE": "RgsTable",
        "POWERTOOLS_SERVICE_NAME": "croupier",
        "CROUPIER_XRAY_SDK": "true" if sdk else "false",
    }


def timed(
    code: str, cwd: Path, repeats: int = REPEATS, *, xray_sdk: bool | None = None, bytecode: bool = True
) -> float:
    """Median seconds of ``code``'s own timing over fresh interpreters, bytecode caches warm after one untimed run
    that writes them (or, with ``bytecode=False``, none at all: every module compiled, as from sam build's layer)."""
    env = lambda_env(cwd, xray_sdk=xray_sdk)
    with tempfile.TemporaryDirectory() as empty:
        if bytecode:
            warm = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
            subprocess.run([sys.executable, "-c", code], cwd=cwd, env=warm, check=True, capture_output=True)  # noqa: S603
        else:
            env["PYTHONPYCACHEPREFIX"] = empty  # no cache found, none written
        samples = []
        for _ in range(repeats):
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-c", code], cwd=cwd, env=env, check=True, capture_output=True, text=True
            )
            samples.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def measure(repeats: int = REPEATS, names: list[str] | None = None) -> tuple[float, dict[str, float]]:
    """The baseline and each handler's import as deployed (seconds)."""
    baseline = timed(BASELINE, ROOT, repeats)
    found = {name: timed(TIMED_IMPORT, ROOT / "functions" / name, repeats) for name in names or handlers()}
    return baseline, found


@dataclass(frozen=True)
class Handler:
    deployed: float
    xray_on: float
    with_client: float


@dataclass(frozen=True)
class Report:
    baseline: float
    handlers: dict[str, Handler]
    baseline_no_bytecode: float
    handler_no_bytecode: float


def measure_all(repeats: int = REPEATS, names: list[str] | None = None) -> Report:
    """Every figure; the baseline is measured before and after the handlers (the mean of the two medians), so a
    load that comes or goes during the run (the machine is shared) skews it less."""
    first = timed(BASELINE, ROOT, repeats)
    found = {}
    for name in names or handlers():
        folder = ROOT / "functions" / name
        found[name] = Handler(
            deployed=timed(TIMED_IMPORT, folder, repeats),
            xray_on=timed(TIMED_IMPORT, folder, repeats, xray_sdk=True),
            with_client=timed(WITH_CLIENT, folder, repeats),
        )
    return Report(
        baseline=(first + timed(BASELINE, ROOT, repeats)) / 2,
        handlers=found,
        baseline_no_bytecode=timed(BASELINE, ROOT, repeats, bytecode=False),
        handler_no_bytecode=timed(TIMED_IMPORT, ROOT / "functions" / NO_BYTECODE_HANDLER, repeats, bytecode=False),
    )


def main(repeats: int = REPEATS) -> dict[str, object]:
    """Print the table; answer the figures bench-summary reads (the deployed configuration's ratios)."""
    report = measure_all(repeats)
    base = report.baseline
    sdk = "true" if deployed_xray_sdk() else "false"
    print(
        f"cold-start import (median of {repeats} fresh interpreters; baseline: import boto3 + a DynamoDB client; "
        f"deployed: XRaySdk={sdk}, the template's default; goal <= {GOAL}x)"
    )
    print(f"{'handler':<28}{'ms':>7}{'x boto3':>9}{'xray on':>9}{'+client':>9}")
    print(f"{'(baseline)':<28}{base * 1000:>7.0f}{1:>9.2f}")
    for name, found in report.handlers.items():
        flag = "" if found.deployed / base <= GOAL else "  over goal"
        print(
            f"{name:<28}{found.deployed * 1000:>7.0f}{found.deployed / base:>9.2f}{found.xray_on / base:>9.2f}"
            f"{found.with_client / base:>9.2f}{flag}"
        )
    print(
        f"without .pyc (sam build ships none): baseline {report.baseline_no_bytecode * 1000:.0f} ms, "
        f"{NO_BYTECODE_HANDLER} {report.handler_no_bytecode * 1000:.0f} ms"
    )
    return {
        "baseline_ms": base * 1000,
        "ratio": {name: found.deployed / base for name, found in report.handlers.items()},
        "xray_on_ratio": {name: found.xray_on / base for name, found in report.handlers.items()},
        "with_client_ratio": {name: found.with_client / base for name, found in report.handlers.items()},
    }


if __name__ == "__main__":
    main()

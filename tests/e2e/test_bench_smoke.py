"""The benchmarks run (tiny iteration counts, no figures checked: timings are for `make bench`, not tests)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench import coldstart, settlement, stack, sweeper
from croupier_local.dynamodb import LocalDynamoDB, create_tables
from croupier_local.moto_server import MotoServer
from croupier_local.server import LocalStack
from croupier_local.template import load_template

pytestmark = pytest.mark.e2e


def test_cold_start_measures_a_handler_and_the_baseline() -> None:
    baseline, found = coldstart.measure(repeats=1, names=["health"])

    assert baseline > 0
    assert found["health"] > 0


def test_the_stack_report_runs_and_counts_dynamodb_work(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = stack.prepare(local_stack, local_stack.secret_store)

    work = stack.work_per_operation(fixture, repeats=1)
    stack.report(fixture, calls=2, rounds=1, warmup=1, repeats=1)

    assert work["ruby debit"][0].calls == {"TransactWriteItems": 1}
    assert work["ruby balance"][0].calls == {"GetItem": 1}
    assert "cost per million callbacks" in capsys.readouterr().out


def test_the_settlement_bench_runs_with_its_baselines(
    dynamodb_local: LocalDynamoDB,
    moto_server: MotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(settlement, "ROUNDS_PER_PLAYER", 1)
    # a table of its own: the bare rounds it writes must not reach the session's RgsTable, its stream and
    # its revenue recomputation (they are no game's rounds)
    (spec,) = [t for t in load_template(Path(sweeper.ROOT) / "template.yaml").tables if t.logical_id == "RgsTable"]
    table = f"RgsSettleSmoke{uuid.uuid4().hex[:8]}"
    create_tables(
        dynamodb_local.endpoint_url,
        [dataclasses.replace(spec, logical_id=table, create_kwargs={**spec.create_kwargs, "TableName": table})],
    )
    setup = settlement.Setup(dynamodb_local.endpoint_url, tmp_path, table, kms_endpoint=moto_server.endpoint_url)
    figures = settlement.report(setup, repeats=1)

    assert set(figures) == {"cash_outs_per_second", "bare_writes_per_second", "old_transactions_per_second"}
    assert "ratio" in capsys.readouterr().out


def test_the_sweeper_report_sweeps_every_seeded_round(
    dynamodb_local: LocalDynamoDB, moto_server: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (spec,) = [t for t in load_template(Path(sweeper.ROOT) / "template.yaml").tables if t.logical_id == "RgsTable"]
    table = f"RgsSweepSmoke{uuid.uuid4().hex[:8]}"
    create_tables(
        dynamodb_local.endpoint_url,
        [dataclasses.replace(spec, logical_id=table, create_kwargs={**spec.create_kwargs, "TableName": table})],
    )

    sweeper.report(dynamodb_local.endpoint_url, dynamodb_local.pid, table, 40, 10, 6, 4, moto_server.endpoint_url)

    out = capsys.readouterr().out
    assert "left due: 0" in out
    assert "DynamoDB calls per round: GetItem 1.50, Query" in out  # half won (read twice), half crashed


def test_make_bench_prints_figures_and_ends_with_one_bench_summary_line() -> None:
    """The whole `python -m bench` path, tiny counts: the last line is ``bench-summary: {json}`` holding every
    figure README documents, and no other line printed is JSON (the handlers' EMF metrics and logs sunk)."""
    root = Path(coldstart.ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "layers" / "croupier"), str(root / "local")])},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    lines = done.stdout.splitlines()

    prefix, _, payload = lines[-1].partition(": ")
    assert prefix == "bench-summary"
    summary = json.loads(payload)
    assert payload == json.dumps(summary, sort_keys=True, separators=(",", ":"))
    for line in lines[:-1]:
        assert not line.lstrip().startswith(("{", "[")), line[:200]
    assert set(summary) == {
        "cold_import",
        "cost_per_million_usd",
        "dynamodb_share",
        "goals",
        "http_ratio",
        "memory_mb",
        "protection_ratio",
        "round_trips",
        "rru",
        "settlement",
        "signing_x_floor",
        "sweeper",
        "throughput_ratio",
        "wallet_cpu_x_floor",
        "wru",
    }
    assert set(summary["cold_import"]["ratio"]) == set(coldstart.handlers())
    assert summary["cold_import"]["baseline_ms"] > 0
    assert set(summary["wallet_cpu_x_floor"]) == {"floor_us", "logic", "handler"}
    assert set(summary["throughput_ratio"]) == {"debit", "credit", "replay"}
    operations = {"ruby_balance", "ruby_debit", "ruby_credit", "ruby_rollback", "ruby_replay", "sportsbook_bet"}
    for field in ("wru", "rru", "round_trips", "cost_per_million_usd", "dynamodb_share"):
        assert set(summary[field]) == operations, field
    assert summary["round_trips"]["ruby_debit"] == 1
    assert set(summary["settlement"]) == {"cash_out_x_bare_write", "old_transaction_x_bare_write"}
    assert set(summary["sweeper"]) == {"workers_x_one_thread", "workers_per_minute", "left_due"}
    assert summary["memory_mb"] == {"skipped": "quick run"}  # bench/memory.py: minutes of Docker, not in --quick
    assert set(summary["goals"]) == {f"cold_import.{name}" for name in coldstart.handlers()} | {
        "wallet_cpu_x_floor.logic",
        "wru.ruby_debit",
        "throughput_ratio.debit",
        "throughput_ratio.credit",
        "throughput_ratio.replay",
        "protection_ratio",
        "sweeper.workers_per_minute",
    }
    for name, goal in summary["goals"].items():
        assert set(goal) == {"value", "goal", "met"}, name
        bound = float(goal["goal"].split()[1])
        assert goal["met"] == (goal["value"] <= bound if goal["goal"].startswith("<=") else goal["value"] >= bound)

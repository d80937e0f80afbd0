"""The benchmarks run (tiny iteration counts, no figures checked: timings are for `make bench`, not tests)."""

from __future__ import annotations

import dataclasses
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

"""`croupier reconcile` over the session's DynamoDB Local: clean after every test before it, and it
reports (exit 1) an account whose balance was changed behind the ledger's back."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

from croupier.ledger import AccountKey, Kind, Ledger, Movement
from croupier.ledger.dynamo import DynamoLedgerStore, account_pk, account_sk
from croupier_cli.cli import main
from croupier_local.dynamodb import LocalDynamoDB


def run(endpoint: str) -> tuple[int, dict[str, object]]:
    out = io.StringIO()
    code = main(["reconcile", "--table", "WalletTable", "--endpoint-url", endpoint], stdout=out, stderr=io.StringIO())
    return code, json.loads(out.getvalue())


def test_reconcile_finds_nothing_then_finds_a_tampered_balance(dynamodb_local: LocalDynamoDB, real_client: Any) -> None:
    endpoint = dynamodb_local.endpoint_url
    store = DynamoLedgerStore("WalletTable", lambda: real_client)
    player = f"reconcile-{uuid.uuid4().hex[:8]}"
    assert store.create_player(player, ["EUR"], {}, "2026-11-21T00:00:00Z")
    ledger = Ledger(store)
    ledger.move(Movement("test", f"{player}-1", AccountKey(player, "EUR"), Kind.CREDIT, 10_000))
    ledger.move(Movement("test", f"{player}-2", AccountKey(player, "EUR"), Kind.DEBIT, 2_500))

    code, report = run(endpoint)
    assert code == 0, report
    assert report["clean"] is True

    key = {"pk": {"S": account_pk(player)}, "sk": {"S": account_sk("EUR")}}
    real_client.update_item(
        TableName="WalletTable",
        Key=key,
        UpdateExpression="SET balance = :b",
        ExpressionAttributeValues={":b": {"N": "7501"}},
    )
    try:
        code, report = run(endpoint)
        assert code == 1
        found = [d for d in report["discrepancies"] if d["player_id"] == player]  # type: ignore[union-attr]
        assert found == [
            {
                "player_id": player,
                "currency": "EUR",
                "problem": "balance differs from the sum of its entries",
                "stored_balance": 7501,
                "computed_balance": 7500,
                "stored_version": 2,
                "entries": 2,
            }
        ]
    finally:
        real_client.update_item(
            TableName="WalletTable",
            Key=key,
            UpdateExpression="SET balance = :b",
            ExpressionAttributeValues={":b": {"N": "7500"}},
        )
    assert run(endpoint)[0] == 0

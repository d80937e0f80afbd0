"""The RGS's data layer: the only code that speaks DynamoDB for the RGS table.

| item | pk | sk | attributes |
|---|---|---|---|
| operator | ``OPERATOR#<id>`` | ``PROFILE`` | settings, public key ids with their retirement times (never a secret) |
| session | ``SESSION#<sha256(token)>`` | ``SESSION`` | operator, player, currency, expiry (TTL ``expires_at_epoch``) |
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

OPERATOR_SK = "PROFILE"
SESSION_SK = "SESSION"


def operator_pk(operator_id: str) -> str:
    return f"OPERATOR#{operator_id}"


def session_pk(token_hash: str) -> str:
    return f"SESSION#{token_hash}"


class RgsStore:
    def __init__(self, table: str, client_factory: Callable[[], Any]) -> None:
        self.table = table
        self._client_factory = client_factory

    @property
    def client(self) -> Any:
        return self._client_factory()

    # operators -------------------------------------------------------------------------------------

    def create_operator(self, operator_id: str, profile: dict[str, Any]) -> bool:
        """False when the operator exists already."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": operator_pk(operator_id)},
                    "sk": {"S": OPERATOR_SK},
                    "profile": {"S": json.dumps(profile, sort_keys=True)},
                    "revision": {"N": "1"},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def read_operator(self, operator_id: str) -> tuple[dict[str, Any], int] | None:
        """The operator's profile and its revision (for conditional updates)."""
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": operator_pk(operator_id)}, "sk": {"S": OPERATOR_SK}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        if not item:
            return None
        profile: dict[str, Any] = json.loads(item["profile"]["S"])
        return profile, int(item["revision"]["N"])

    def update_operator(self, operator_id: str, profile: dict[str, Any], revision: int) -> bool:
        """Replace the profile if it is still at ``revision`` (False: someone changed it meanwhile)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": operator_pk(operator_id)},
                    "sk": {"S": OPERATOR_SK},
                    "profile": {"S": json.dumps(profile, sort_keys=True)},
                    "revision": {"N": str(revision + 1)},
                },
                ConditionExpression="revision = :r",
                ExpressionAttributeValues={":r": {"N": str(revision)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # sessions ----------------------------------------------------------------------------------------

    def create_session(self, token_hash: str, session: dict[str, Any], expires_at_epoch: int) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": session_pk(token_hash)},
                "sk": {"S": SESSION_SK},
                "session": {"S": json.dumps(session, sort_keys=True)},
                "expires_at_epoch": {"N": str(expires_at_epoch)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def read_session(self, token_hash: str) -> tuple[dict[str, Any], int] | None:
        """The session and its expiry (unix seconds); TTL deletion is lazy, so callers check the expiry."""
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": session_pk(token_hash)}, "sk": {"S": SESSION_SK}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        if not item:
            return None
        session: dict[str, Any] = json.loads(item["session"]["S"])
        return session, int(item["expires_at_epoch"]["N"])

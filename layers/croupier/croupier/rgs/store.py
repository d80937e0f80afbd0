"""The RGS's data layer: the only code that speaks DynamoDB for the RGS table.

- operator: ``OPERATOR#<id>`` / ``PROFILE``: settings and public key ids with their retirement times
  (never a secret).
- session: ``SESSION#<sha256(token)>`` / ``SESSION``: operator, player, currency, expiry (TTL
  ``expires_at_epoch``), the round ``nonce``, the committed server seed of its next round (``next_seed``,
  sealed: below) and its SHA-256 (``next_seed_hash``, what the player sees before betting), the seed its last
  bet took (``last_seed``, the sealed ``next_seed`` it took, for a retry whose answer was lost), the bet-rate
  counter (``bet_second``, ``bets_in_second``) and, once the operator ended it, ``ended_at``;
  ``SESSIONID#<session_id>`` / ``SESSION`` points to it (the token's hash and the operator), written in the
  same transaction, so the operator can end a session by its id.
- round: ``ROUND#<round_id>`` / ``ROUND``: the round (bet, seed hash, client seed, nonce), its ``status`` and
  settlement; its server seed and crash point (:data:`SEALED_FIELDS`) sealed in ``sealed`` until it settles,
  then, in the very write that settles it (or voids or refunds it), in plain text in ``revealed`` (and
  ``sealed`` removed). Rounds stored before sealing hold both in ``round`` and are read as they are. gsi1
  lists a session's rounds in the order they were placed (by nonce); the ``player`` index (keys only) lists
  an operator's player's rounds by creation time: ``player_pk`` = ``PLAYER#<operator_id>#<operator_player_id>``,
  ``player_at`` = the round's ``created_at_ms``, both written once, when the round is stored, and never
  changed (so later updates of the round write nothing to it).
- revenue: ``REVENUE#<operator_id>`` / ``<YYYY-MM-DD>#<currency>#<house_share>#<shard>``: ``bets_minor``,
  ``wins_minor`` and ``rounds`` of the day's settled rounds, one of :data:`REVENUE_SHARDS` counters per day,
  currency and house share, added off the player's path by the stream's aggregator
  (:mod:`croupier.rgs.revenue`), each round once (its marker ``COUNTED#<round_id>`` / ``REVENUE`` is written
  in the same transaction). Items ``<YYYY-MM-DD>#<currency>`` are the single counters of rounds settled
  before (no house share of their own: the operator's current one applies).
- the sweeper's index ``due`` (sparse, keys only): a round that still needs the server to act carries
  ``due_pk`` (``DUE#<shard>``, one of :data:`DUE_SHARDS`, a hash of the round id, so no partition runs hot)
  and ``due_at`` (unix ms: when to act); every status change sets or removes them in the same write, so only
  rounds awaiting settlement, a win or a refund are in the index. An open round's ``due_at`` never depends on
  its outcome (``croupier.rgs.rounds.next_check_ms``).

- data key: ``SEALKEY#<key id>`` / ``SEALKEY``: one KMS-encrypted data key of the sealer's (``encrypted``,
  base64; ``created_at_epoch``), written once, conditionally, before the first value it seals; the sealed
  values carry only its id. Never deleted: a round sealed under it must open whenever it is settled
  (~300 bytes per data key: one per execution environment per 5 minutes of sealing).

Sealed (``croupier.rgs.sealing``: AES-256-GCM under a KMS data key, bound to its item and field): a session's
``next_seed`` and ``last_seed`` (as ``session:<token hash>/next_seed``), an unsettled round's ``sealed``
(``round:<id>/sealed``). Nothing of an open round's outcome is readable without ``kms:Decrypt`` on the key; a
session or round stored before sealing keeps its plain seed until it is spent or settled (the README's
migration note).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from croupier.rgs.attempts import Attempts, StoreBusy
from croupier.rgs.rounds import Round, Settlement, StoredRound, may_move
from croupier.rgs.sealing import Sealer, is_sealed

OPERATOR_SK = "PROFILE"
SEAL_KEY_SK = "SEALKEY"
_CONDITION_FAILED = "ConditionalCheckFailedException"
SESSION_SK = "SESSION"
DUE_INDEX = "due"
PLAYER_INDEX = "player"
BATCH_GET_MAX = 100
"""Keys one BatchGetItem takes."""


def _due_shards(environ: Mapping[str, str] = os.environ) -> int:
    """``RGS_DUE_SHARDS`` (the template's ``RgsDueShards``), 32 by default; never fewer than the first layout's
    8 (their items would be lost), at most 4,096. A value that is not such a number fails at import, loudly."""
    text = environ.get("RGS_DUE_SHARDS", "32")
    if not text.isdigit() or not 8 <= int(text) <= 4096:
        raise ValueError(f"RGS_DUE_SHARDS must be a whole number from 8 to 4096, not {text!r}")
    return int(text)


DUE_SHARDS = _due_shards()
"""Sized for the write rate of the ``due`` index. One partition key value of an index takes at most 1,000
write units a second, and ``due_at`` only grows, so DynamoDB cannot split a hot shard by its sort key. A round
costs the index at most 6 writes of one unit (keys-only items under 1 KB): 1 when it is stored ``placing``, 2
when it opens (``due_at`` moves: a delete and a put), 2 when it is cashed out (moves to the backstop time) and
1 when it is paid (crashed: 1 when settled, 4 in all), and 2 more for each 20 s check of the sweeper that finds
an open round still running (its due time is blind to its outcome: ~0.4 checks per round left to the sweeper).
The API lets at most 1,000 bets a second through
(``WalletRouteBurstLimit`` of ``/rgs/play/bet``), 6,000 index writes a second: 32 shards take ~190 each, a
fifth of a partition's limit (8 shards would take 750: no room for an uneven hash or a raised API limit).
10,000 due rounds a minute are ~170 rounds, ~1,000 index writes a second: ~30 a shard. The sweeper reads all
32 shards at once (one round trip), and ~310 keys a shard at that rate fit one page of a query. Raise it (never
lower it) for more: at 10,000 rounds/s the index takes ~60,000 writes a second and 1,024 shards keep each near
59, under 6 % (docs/capacity.md); a raised count still queries every shard items were written to."""
LEGACY_DUE_SHARDS = 8
"""Shards ``DUE#0``..``DUE#7`` of the first layout (by the round id's last two hex digits, modulo 8). Their
keys name shards that still exist, so those items are still found with no migration, and any change of the
round writes its hashed shard; :data:`DUE_SHARDS` must never drop below this without moving them first."""
DUE_QUERY_THREADS = 16
"""Shards queried at once by :meth:`RgsStore.due_rounds` (two waves for 32 shards: a few ms on AWS)."""


def operator_pk(operator_id: str) -> str:
    return f"OPERATOR#{operator_id}"


def session_pk(token_hash: str) -> str:
    return f"SESSION#{token_hash}"


def session_id_pk(session_id: str) -> str:
    return f"SESSIONID#{session_id}"


def seal_key_pk(key_id: str) -> str:
    return f"SEALKEY#{key_id}"


def player_pk(operator_id: str, operator_player_id: str) -> str:
    """The ``player`` index's key of an operator's player (the same player id at two operators: two players)."""
    return f"PLAYER#{operator_id}#{operator_player_id}"


@dataclass(frozen=True, slots=True)
class RoundKey:
    """A round's place in its player's list: when it was created, and its id (which, with the time, is the
    index's start key: rounds of one millisecond are paged in the index's own stable order)."""

    created_at_ms: int
    round_id: str


SEALED_FIELDS = ("server_seed", "crash_cents")
"""What of a round stays sealed until it settles."""


class RgsStore:
    def __init__(
        self,
        table: str,
        client_factory: Callable[[], Any],
        *,
        attempts: Attempts | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.table = table
        self._client_factory = client_factory
        self.attempts = attempts or Attempts()
        self._sealer = sealer
        if sealer is not None and sealer.keys is None:
            sealer.keys = self  # its data keys go to this table's key items

    @property
    def sealer(self) -> Sealer:
        """Seals and opens seeds; a store without one (the operators' and reading tools') cannot store any."""
        if self._sealer is None:
            raise RuntimeError("this store has no sealer: it cannot store or open a seed")
        return self._sealer

    def _seal_seed(self, token_hash: str, seed: str) -> str:
        return self.sealer.seal(seed, f"session:{token_hash}/next_seed")

    def _open_seed(self, token_hash: str, stored: str) -> str:
        """A session's seed as stored: sealed, or in plain text (a session committed before sealing)."""
        return self.sealer.open(stored, f"session:{token_hash}/next_seed") if is_sealed(stored) else stored

    @property
    def client(self) -> Any:
        return self._client_factory()

    # data keys of the sealer ---------------------------------------------------------------------------

    def put_data_key(self, key_id: str, encrypted: bytes) -> None:
        """Store a new data key, once (an id already there raises: a fresh id never is, but a retry after a
        lost answer finds its own earlier write, which is the same key)."""
        item = {
            "pk": {"S": seal_key_pk(key_id)},
            "sk": {"S": SEAL_KEY_SK},
            "encrypted": {"S": base64.b64encode(encrypted).decode("ascii")},  # text: every tool reads it
            "created_at_epoch": {"N": str(int(time.time()))},
        }

        def attempt(ambiguous: bool) -> None:
            written = _unless_condition_fails(
                lambda: self.client.put_item(
                    TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            )
            if not written and not (ambiguous and self.data_key(key_id) == encrypted):
                raise ValueError(f"data key {key_id} exists already")

        self.attempts.run(attempt, what="data key")

    def data_key(self, key_id: str) -> bytes | None:
        if not _could_be_a_key(key_id):
            return None
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": seal_key_pk(key_id)}, "sk": {"S": SEAL_KEY_SK}},
            ConsistentRead=True,
        ).get("Item")
        return base64.b64decode(item["encrypted"]["S"]) if item else None

    # operators -------------------------------------------------------------------------------------

    def create_operator(self, operator_id: str, profile: dict[str, Any]) -> bool:
        """False when the operator exists already."""
        return self._put_operator(operator_id, profile, None)

    def read_operator(self, operator_id: str) -> tuple[dict[str, Any], int] | None:
        """The operator's profile and its revision (for conditional updates)."""
        if not _could_be_a_key(operator_id):
            return None
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
        return self._put_operator(operator_id, profile, revision)

    def _put_operator(self, operator_id: str, profile: dict[str, Any], revision: int | None) -> bool:
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if revision is None
            else {"ConditionExpression": "revision = :r", "ExpressionAttributeValues": {":r": {"N": str(revision)}}}
        )
        item = {
            "pk": {"S": operator_pk(operator_id)},
            "sk": {"S": OPERATOR_SK},
            "profile": {"S": json.dumps(profile, sort_keys=True)},
            "revision": {"N": str((revision or 0) + 1)},
        }
        return _unless_condition_fails(lambda: self.client.put_item(TableName=self.table, Item=item, **condition))

    # sessions ----------------------------------------------------------------------------------------

    def create_session(
        self, token_hash: str, session: dict[str, Any], expires_at_epoch: int, *, next_seed: str, next_seed_hash: str
    ) -> None:
        """The session with the commitment of its first round's server seed, and its pointer by session id, in
        one transaction."""
        expiry = {"N": str(expires_at_epoch)}
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "pk": {"S": session_pk(token_hash)},
                            "sk": {"S": SESSION_SK},
                            "session": {"S": json.dumps(session, sort_keys=True)},
                            "expires_at_epoch": expiry,
                            "nonce": {"N": "0"},
                            "next_seed": {"S": self._seal_seed(token_hash, next_seed)},
                            "next_seed_hash": {"S": next_seed_hash},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "pk": {"S": session_id_pk(session["session_id"])},
                            "sk": {"S": SESSION_SK},
                            "token_hash": {"S": token_hash},
                            "operator_id": {"S": session["operator_id"]},
                            "expires_at_epoch": expiry,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    def read_session(self, token_hash: str) -> tuple[dict[str, Any], int] | None:
        """The session and its expiry (unix seconds); TTL deletion is lazy, so callers check the expiry. The
        session carries ``ended_at`` once its operator ended it, and ``bet_second`` once it has bet."""
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": session_pk(token_hash)}, "sk": {"S": SESSION_SK}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        if not item:
            return None
        session: dict[str, Any] = json.loads(item["session"]["S"])
        if "ended_at" in item:
            session["ended_at"] = item["ended_at"]["S"]
        if "bet_second" in item:
            session["bet_second"] = int(item["bet_second"]["N"])
        if "next_seed_hash" in item:  # the seed itself stays here: only :meth:`next_nonce` takes it
            session["next_server_seed_hash"] = item["next_seed_hash"]["S"]
        return session, int(item["expires_at_epoch"]["N"])

    def commit_seed(self, token_hash: str, next_seed: str, next_seed_hash: str) -> bool:
        """Commit a first next seed for a session launched before sessions held one (False: it has one now,
        or it is gone)."""
        return self._update_once(
            what="seed commitment",
            Key={"pk": {"S": session_pk(token_hash)}, "sk": {"S": SESSION_SK}},
            UpdateExpression="SET next_seed = :ns, next_seed_hash = :nh",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(next_seed_hash)",
            ExpressionAttributeValues={
                ":ns": {"S": self._seal_seed(token_hash, next_seed)},
                ":nh": {"S": next_seed_hash},
            },
        )

    def _update_once(self, *, what: str, **update: Any) -> bool:
        """One conditional update, retried through throttling, conflicts and lost answers (False: its condition
        failed, on the first try or on a retry after an earlier try's answer was lost)."""
        return self.attempts.run(
            lambda _: _unless_condition_fails(lambda: self.client.update_item(TableName=self.table, **update)),
            what=what,
        )

    def end_session(self, session_id: str, operator_id: str, ended_at: str) -> str | None:
        """Mark the operator's session ended (at ``ended_at``, or when it was first ended): the time it ended,
        or None when the operator has no such session. Two round trips: the pointer, then the session."""
        if not _could_be_a_key(session_id):
            return None
        pointer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": session_id_pk(session_id)}, "sk": {"S": SESSION_SK}},
            ConsistentRead=True,
        ).get("Item")
        if not pointer or pointer["operator_id"]["S"] != operator_id:
            return None
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": session_pk(pointer["token_hash"]["S"])}, "sk": {"S": SESSION_SK}},
                UpdateExpression="SET ended_at = if_not_exists(ended_at, :now)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":now": {"S": ended_at}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None  # deleted by its TTL meanwhile
            raise
        ended: str = answer["Attributes"]["ended_at"]["S"]
        return ended

    def _take_nonce(
        self, token_hash: str, update: str, condition: str, values: dict[str, Any], ambiguous: bool
    ) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": session_pk(token_hash)}, "sk": {"S": SESSION_SK}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            old = error.response.get("Item") or {}
            applied = old.get("next_seed_hash", {}).get("S") == values[":nh"]["S"] and "last_seed" in old
            if not (ambiguous and applied and error.response.get("Error", {}).get("Code") == _CONDITION_FAILED):
                raise
            # an earlier try whose answer was lost took the nonce and the seed: what it would have answered
            return {"Attributes": {"nonce": {"N": str(int(old["nonce"]["N"]) - 1)}, "next_seed": old["last_seed"]}}
        return answer

    def next_nonce(
        self,
        token_hash: str,
        *,
        second: int,
        max_per_second: int,
        last_second: int | None,
        committed_hash: str,
        next_seed: str,
        next_seed_hash: str,
    ) -> tuple[int, str] | str:
        """This round's nonce for the session (0, 1, 2, ...) and its server seed: the one committed before the
        bet, whose hash is ``committed_hash`` (the one the bet read, or the one its player named). The same
        conditional update takes the nonce and the committed seed, commits ``next_seed`` for the round after,
        and counts the bet against ``max_per_second`` bets in ``second``; if the committed seed is not the one
        of ``committed_hash`` any more (another bet took it, or it was swapped), nothing is written and the
        answer is ``"moved"``. Other reasons why not: ``"limited"`` (that many bets this second already),
        ``"ended"`` (its operator ended it) or ``"gone"``. ``last_second`` (the session's ``bet_second`` as read)
        picks the update that usually holds; when another bet moved the counter meanwhile, the other is tried
        once (a second round trip, only then)."""
        same = last_second == second
        sealed_next = self._seal_seed(token_hash, next_seed)
        for _ in range(2):
            values: dict[str, Any] = {
                ":one": {"N": "1"},
                ":s": {"N": str(second)},
                ":committed": {"S": committed_hash},
                ":ns": {"S": sealed_next},
                ":nh": {"S": next_seed_hash},
            }
            live = "attribute_exists(pk) AND attribute_not_exists(ended_at) AND next_seed_hash = :committed"
            commit = "last_seed = next_seed, next_seed = :ns, next_seed_hash = :nh"  # last: for a lost answer
            if same:
                update = f"SET {commit} ADD nonce :one, bets_in_second :one"
                condition = f"{live} AND bet_second = :s AND bets_in_second < :max"
                values[":max"] = {"N": str(max_per_second)}
            else:
                update = f"SET bet_second = :s, bets_in_second = :one, {commit} ADD nonce :one"
                condition = f"{live} AND (attribute_not_exists(bet_second) OR bet_second <> :s)"
            try:  # throttling, conflicts and lost answers retried (a retry may skip a nonce, never repeat one)
                answer = self.attempts.run(
                    functools.partial(self._take_nonce, token_hash, update, condition, values), what="next nonce"
                )
                old_values = answer.get("Attributes", {})
                taken = self._open_seed(token_hash, str(old_values["next_seed"]["S"]))
                return int(old_values.get("nonce", {}).get("N", "0")), taken
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                    raise
                old = error.response.get("Item")
                if not old:
                    return "gone"
                if "ended_at" in old:
                    return "ended"
                if old.get("next_seed_hash", {}).get("S") != committed_hash:
                    return "moved"
                now_same = int(old.get("bet_second", {}).get("N", "-1")) == second
                if same and now_same:
                    return "limited"
                same = now_same
        return "limited"

    # rounds ------------------------------------------------------------------------------------------

    def create_round(self, placed: Round, status: str, *, due_at_ms: int) -> None:
        """Store a new round (its id is fresh: a retry whose condition fails finds the earlier try's round), its
        :data:`SEALED_FIELDS` sealed."""
        sealed = self.sealer.seal(json.dumps(placed.sealed_part(), sort_keys=True), round_place(placed.round_id))
        item = round_item(placed, sealed, status, due_at_ms)
        self.attempts.run(lambda ambiguous: self._create_round(placed.round_id, item, ambiguous), what="round")

    def _create_round(self, round_id: str, item: dict[str, Any], ambiguous: bool) -> None:
        written = _unless_condition_fails(
            lambda: self.client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        )
        if not written and not ambiguous:
            raise ValueError(f"round {round_id} exists already")

    def read_round(self, round_id: str) -> StoredRound | None:
        if not _could_be_a_key(round_id):
            return None
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": round_pk(round_id)}, "sk": {"S": ROUND_SK}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return _round(item) if item else None

    def opened(self, stored: StoredRound) -> StoredRound:
        """The round with its sealed fields opened (in ``data``), as the game needs them while it is open; a
        round revealed, or stored before sealing, as it is (no KMS call, no decryption)."""
        if stored.sealed is None:
            return stored
        secret = json.loads(self.sealer.open(stored.sealed, round_place(stored.round.round_id)))
        opened = dataclasses.replace(stored.round, server_seed=secret["server_seed"], crash_cents=secret["crash_cents"])
        return StoredRound(round=opened, status=stored.status, fields=stored.fields)

    def move_round(
        self,
        round_id: str,
        expected: str,
        status: str,
        fields: dict[str, Any] | None = None,
        *,
        due_at_ms: int | None,
        reveal: dict[str, Any] | None = None,
    ) -> bool:
        """Change the round's status from ``expected`` (False: it was not in that status any more), and when
        the sweeper should look at it next (``None``: never, the server has nothing left to do). ``reveal``
        (:meth:`Round.sealed_part` of the opened round) is written in plain text and the sealed copy removed, in
        the same write: for a round leaving play (void, or refunded). A move its life does not have
        (:data:`croupier.rgs.rounds.TRANSITIONS`) is refused before anything is written."""
        if not may_move(expected, status):
            raise ValueError(f"a round does not move from {expected} to {status}")
        names = {"#s": "status"}
        values: dict[str, Any] = {":e": {"S": expected}, ":s": {"S": status}}
        update = "SET #s = :s"
        for i, (name, value) in enumerate((fields or {}).items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = {"S": json.dumps(value)}
            update += f", #f{i} = :f{i}"
        update = _with_due_and_reveal(update, round_id, due_at_ms, reveal, values)

        def attempt(ambiguous: bool) -> bool:
            moved = _unless_condition_fails(
                lambda: self.client.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": round_pk(round_id)}, "sk": {"S": ROUND_SK}},
                    UpdateExpression=update,
                    ConditionExpression="#s = :e",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
            )
            if moved or not ambiguous:
                return moved
            return self._shows(round_id, status, fields or {})  # an earlier try may have moved it

        return self.attempts.run(attempt, what="round status")

    def _shows(self, round_id: str, status: str, fields: dict[str, Any]) -> bool:
        """Whether the round is in ``status`` with these fields (what a write whose answer was lost wrote)."""
        stored = self.read_round(round_id)
        return (
            stored is not None
            and stored.status == status
            and all(stored.fields.get(name) == json.loads(json.dumps(value)) for name, value in fields.items())
        )

    def settle_round(
        self,
        round_id: str,
        status: str,
        settlement: Settlement,
        *,
        due_at_ms: int | None,
        reveal: dict[str, Any],
    ) -> bool:
        """Settle an open round by one conditional write on the round alone (False: it was settled already, by
        another request), which also reveals its seed and crash point (``reveal``, :meth:`Round.sealed_part` of the
        opened round) and removes their sealed copy. ``settlement["settlement_id"]`` tells this settlement from
        any other: after a lost answer the round is read again, and the settlement found there is this one or
        another's. Revenue is counted later, from the table's stream (:mod:`croupier.rgs.revenue`)."""
        if not may_move("open", status) or status == "open":
            raise ValueError(f"a round is not settled as {status}")
        values: dict[str, Any] = {
            ":s": {"S": status},
            ":open": {"S": "open"},
            ":settlement": {"S": json.dumps(settlement.as_dict(), sort_keys=True)},
        }
        update = _with_due_and_reveal("SET #s = :s, settlement = :settlement", round_id, due_at_ms, reveal, values)

        def attempt(ambiguous: bool) -> bool:
            settled = _unless_condition_fails(
                lambda: self.client.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": round_pk(round_id)}, "sk": {"S": ROUND_SK}},
                    UpdateExpression=update,
                    ConditionExpression="#s = :open",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues=values,
                )
            )
            if settled or not ambiguous:
                return settled
            stored = self.read_round(round_id)  # an earlier try's answer was lost: was it applied?
            found = stored.settlement if stored else None
            return found is not None and found.settlement_id == settlement.settlement_id

        return self.attempts.run(attempt, what="settlement")

    def claim(self, round_id: str, status: str, now_ms: int, until_ms: int) -> bool:
        """Take a due round still in ``status`` for this sweeper run: its time to act moves to ``until_ms``, if
        it is still due at ``now_ms``. False: another run (or the request, or the retry worker) took or moved it
        first; so overlapping runs never send the same win or refund twice. A run that dies after its claim
        leaves the round due again at ``until_ms``."""
        return self._update_once(  # a retry after a lost answer finds it claimed and lets it be: due again later
            what="claim",
            Key={"pk": {"S": round_pk(round_id)}, "sk": {"S": ROUND_SK}},
            UpdateExpression="SET due_pk = :pk, due_at = :until",
            ConditionExpression="#s = :s AND due_at <= :now",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": status},
                ":now": {"N": str(now_ms)},
                ":until": {"N": str(until_ms)},
                ":pk": {"S": due_shard(round_id)},
            },
        )

    def due_rounds(self, now_ms: int, limit: int) -> list[str]:
        """Up to ``limit`` rounds whose time to act has come, the longest overdue first: every shard queried at
        once (:data:`DUE_QUERY_THREADS`), each to its last page or ``limit`` keys (the index holds keys only)."""
        with ThreadPoolExecutor(max_workers=DUE_QUERY_THREADS, thread_name_prefix="due-shard") as pool:
            shards = list(pool.map(lambda shard: self._due_in(f"DUE#{shard}", now_ms, limit), range(DUE_SHARDS)))
        found = sorted(entry for shard in shards for entry in shard)
        return [round_id for _, round_id in found[:limit]]

    def _due_in(self, shard: str, now_ms: int, limit: int) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "due_pk = :pk AND due_at <= :now",
            "ExpressionAttributeValues": {":pk": {"S": shard}, ":now": {"N": str(now_ms)}},
        }
        while len(found) < limit:
            answer = self.client.query(**kwargs, Limit=limit - len(found))
            for item in answer.get("Items", []):
                found.append((int(item["due_at"]["N"]), item["pk"]["S"].removeprefix("ROUND#")))
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        return found

    def session_rounds(self, session_id: str, limit: int) -> list[StoredRound]:
        answer = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SESSION#{session_id}"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_round(item) for item in answer.get("Items", [])]

    def player_rounds(
        self,
        operator_id: str,
        operator_player_id: str,
        *,
        first_ms: int,
        last_ms: int,
        limit: int,
        after: RoundKey | None = None,
        newest_first: bool = True,
    ) -> tuple[list[StoredRound], RoundKey | None]:
        """Up to ``limit`` of the player's rounds created from ``first_ms`` to ``last_ms`` (both included),
        newest first, after ``after`` (a previous page's last round); and the last round's key when more
        follow. Reads only: one query of the keys-only ``player`` index (``limit`` + 1 keys, to know whether
        more follow) and one BatchGetItem of the rounds, strongly consistent (their status as of now)."""
        if not _could_be_a_key(operator_player_id) or first_ms > last_ms:
            return [], None
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": PLAYER_INDEX,
            "KeyConditionExpression": "player_pk = :pk AND player_at BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": player_pk(operator_id, operator_player_id)},
                ":first": {"N": str(first_ms)},
                ":last": {"N": str(last_ms)},
            },
            "ScanIndexForward": not newest_first,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {
                "player_pk": {"S": player_pk(operator_id, operator_player_id)},
                "player_at": {"N": str(after.created_at_ms)},
                "pk": {"S": round_pk(after.round_id)},
                "sk": {"S": ROUND_SK},
            }
        keys: list[RoundKey] = []
        while len(keys) <= limit:
            answer = self.client.query(**kwargs, Limit=limit + 1 - len(keys))
            for item in answer.get("Items", []):
                keys.append(RoundKey(int(item["player_at"]["N"]), item["pk"]["S"].removeprefix("ROUND#")))
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        more = len(keys) > limit
        keys = keys[:limit]
        found = self._read_rounds([key.round_id for key in keys])
        rounds = [found[key.round_id] for key in keys if key.round_id in found]
        return rounds, (keys[-1] if more and keys else None)

    def _read_rounds(self, round_ids: list[str]) -> dict[str, StoredRound]:
        """The rounds by id (BatchGetItem, strongly consistent; unprocessed keys asked again)."""
        found: dict[str, StoredRound] = {}
        for start in range(0, len(round_ids), BATCH_GET_MAX):
            pending: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"pk": {"S": round_pk(round_id)}, "sk": {"S": ROUND_SK}}
                        for round_id in round_ids[start : start + BATCH_GET_MAX]
                    ],
                    "ConsistentRead": True,
                }
            }
            for n in range(self.attempts.max_attempts):
                answer = self.attempts.run(functools.partial(self._batch_get, pending), what="rounds")
                for item in answer.get("Responses", {}).get(self.table, []):
                    stored = _round(item)
                    found[stored.round.round_id] = stored
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
                attempts = self.attempts  # throttled: the keys left are asked again after a jittered pause
                attempts.sleep(attempts.random.uniform(0, min(attempts.cap_seconds, attempts.base_seconds * 2**n)))
            else:
                raise StoreBusy("rounds: the table is busy; try again")
        return found

    def _batch_get(self, request: dict[str, Any], _ambiguous: bool) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.batch_get_item(RequestItems=request)
        return answer


ROUND_SK = "ROUND"


def _unless_condition_fails(write: Callable[[], Any]) -> bool:
    """Run a conditional write: False when its condition failed, any other error raised."""
    try:
        write()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def round_pk(round_id: str) -> str:
    return f"ROUND#{round_id}"


def due_shard(round_id: str) -> str:
    """The round's shard of the ``due`` index: the first 8 bytes of the SHA-256 of its id, modulo
    :data:`DUE_SHARDS` (even whatever the ids look like; the same in every process, unlike ``hash()``)."""
    digest = hashlib.sha256(round_id.encode("utf-8", "surrogatepass")).digest()
    return f"DUE#{int.from_bytes(digest[:8], 'big') % DUE_SHARDS}"


def _with_due_and_reveal(
    update: str, round_id: str, due_at_ms: int | None, reveal: dict[str, Any] | None, values: dict[str, Any]
) -> str:
    """``update`` (a SET clause) that also puts the round in the sweeper's index at ``due_at_ms`` or takes it
    out, and, with ``reveal``, writes its sealed fields in plain text and removes the sealed copy."""
    removed = []
    if due_at_ms is None:
        removed += ["due_pk", "due_at"]
    else:
        values[":due_pk"] = {"S": due_shard(round_id)}
        values[":due_at"] = {"N": str(due_at_ms)}
        update += ", due_pk = :due_pk, due_at = :due_at"
    if reveal is not None:
        values[":revealed"] = {"S": json.dumps(reveal, sort_keys=True)}
        update += ", revealed = :revealed"
        removed.append("sealed")
    return update + (" REMOVE " + ", ".join(removed) if removed else "")


def round_place(round_id: str) -> str:
    """The associated data of a round's sealed fields: they open on this round only."""
    return f"round:{round_id}/sealed"


def round_item(placed: Round, sealed: str, status: str, due_at_ms: int) -> dict[str, Any]:
    """A new round's item: its public part, its sealed part, its status and its places in the indexes."""
    if placed.created_at_ms is None:
        raise ValueError("a new round has its creation time")
    return {
        "pk": {"S": round_pk(placed.round_id)},
        "sk": {"S": ROUND_SK},
        "round": {"S": placed.public_json()},
        "sealed": {"S": sealed},
        "status": {"S": status},
        "gsi1pk": {"S": f"SESSION#{placed.session_id}"},
        "gsi1sk": {"S": f"{placed.nonce:012d}"},  # the session's nonce: in the order placed
        "player_pk": {"S": player_pk(placed.operator_id, placed.operator_player_id)},
        "player_at": {"N": str(placed.created_at_ms)},
        "due_pk": {"S": due_shard(placed.round_id)},
        "due_at": {"N": str(due_at_ms)},
    }


MAX_ID_BYTES = 256
"""Ids we issue are far shorter (uuids, ``r_`` + 32 hex digits). A longer one, as a caller may put in a URL,
names nothing, and as part of a key it could exceed DynamoDB's key size (a ValidationException, a 500)."""


def _could_be_a_key(identifier: str) -> bool:
    return 0 < len(identifier.encode("utf-8", "surrogatepass")) <= MAX_ID_BYTES


_NOT_FIELDS = frozenset(
    ("pk", "sk", "round", "status", "gsi1pk", "gsi1sk", "due_pk", "player_pk", "sealed", "revealed")
)


def _round(item: dict[str, Any]) -> StoredRound:
    fields = {name: json.loads(value["S"]) for name, value in item.items() if name not in _NOT_FIELDS and "S" in value}
    revealed = item["revealed"]["S"] if "revealed" in item else None  # settled: as a round stored before sealing
    sealed = item["sealed"]["S"] if "sealed" in item else None
    return StoredRound(
        round=Round.from_json(item["round"]["S"], revealed), status=item["status"]["S"], fields=fields, sealed=sealed
    )


REVENUE_SHARDS = 32
"""Counters per operator, day, currency and house share: each takes a share of the aggregator's writes (see
docs/capacity.md for the count)."""
COUNTED_SK = "REVENUE"
MARKER_TTL_SECONDS = 2 * 86_400
"""A round's revenue marker outlives the stream's 24 h retention (no record can come back after it)."""


@dataclass(frozen=True, slots=True)
class CounterKey:
    operator_id: str
    day: str
    currency: str
    house_share: str


@dataclass(frozen=True, slots=True)
class CountedRound:
    round_id: str
    bet_minor: int
    win_minor: int


def revenue_shard(round_id: str) -> int:
    return int(hashlib.sha256(round_id.encode()).hexdigest()[:8], 16) % REVENUE_SHARDS


def count_revenue(store: RgsStore, key: CounterKey, rounds: list[CountedRound], *, now_s: int) -> int:
    """Add ``rounds`` (at most 99) to one of the key's counters, each round once: its marker is written in the
    same transaction, on the condition that it is not there yet. A round counted before (a redelivered
    record, a retry after a lost answer) is set aside and the rest written again. Answers how many this call
    added."""
    if len(rounds) > 99:
        raise ValueError("a transaction holds at most 100 items: 99 rounds and the counter")
    pending = list({r.round_id: r for r in rounds}.values())
    while pending:
        batch = pending
        already = store.attempts.run(functools.partial(_count_once_of, store, key, batch, now_s), what="revenue")
        if not already:
            return len(batch)
        pending = [r for i, r in enumerate(batch) if i not in already]
    return 0


def _count_once_of(store: RgsStore, key: CounterKey, rounds: list[CountedRound], now_s: int, _: bool) -> set[int]:
    return _count_once(store, key, rounds, now_s)


def _count_once(store: RgsStore, key: CounterKey, rounds: list[CountedRound], now_s: int) -> set[int]:
    """One transaction; answers the indexes of the rounds already counted (nothing written then)."""
    shard = revenue_shard(min(r.round_id for r in rounds))
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": store.table,
                "Item": {
                    "pk": {"S": f"COUNTED#{r.round_id}"},
                    "sk": {"S": COUNTED_SK},
                    "expires_at_epoch": {"N": str(now_s + MARKER_TTL_SECONDS)},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for r in rounds
    ]
    items.append(
        {
            "Update": {
                "TableName": store.table,
                "Key": {
                    "pk": {"S": f"REVENUE#{key.operator_id}"},
                    "sk": {"S": f"{key.day}#{key.currency}#{key.house_share}#{shard:02d}"},
                },
                "UpdateExpression": "ADD bets_minor :bet, wins_minor :win, rounds :n",
                "ExpressionAttributeValues": {
                    ":bet": {"N": str(sum(r.bet_minor for r in rounds))},
                    ":win": {"N": str(sum(r.win_minor for r in rounds))},
                    ":n": {"N": str(len(rounds))},
                },
            }
        }
    )
    try:
        store.client.transact_write_items(TransactItems=items)
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        codes = [reason.get("Code") for reason in reasons[: len(rounds)]]
        already = {i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
        if already:
            return already
        raise
    return set()


def revenue_rows(store: RgsStore, operator_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """The operator's counters from ``first_day`` to ``last_day`` (one query, paged): per day, currency and
    house share (``None`` for the single counters of before), each shard a row."""
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": store.table,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
        "ExpressionAttributeValues": {
            ":pk": {"S": f"REVENUE#{operator_id}"},
            ":from": {"S": f"{first_day}#"},
            ":to": {"S": f"{last_day}#~"},
        },
        "ConsistentRead": True,
    }
    while True:
        page = store.client.query(**kwargs)
        for item in page.get("Items", []):
            day, currency, *rest = item["sk"]["S"].split("#")
            rows.append(
                {
                    "period_day": day,
                    "currency": currency,
                    "house_share": rest[0] if rest else None,
                    "bets_minor": int(item.get("bets_minor", {}).get("N", "0")),
                    "wins_minor": int(item.get("wins_minor", {}).get("N", "0")),
                    "rounds": int(item.get("rounds", {}).get("N", "0")),
                }
            )
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def settled_rounds(
    store: RgsStore, *, segment: int = 0, segments: int = 1, unreadable: list[str] | None = None
) -> Iterator[StoredRound]:
    """Every settled round of the table (a scan: for the recomputing command, never a request's path). An item
    with a settled status that is not a whole round is not a round: its key goes to ``unreadable``."""
    kwargs: dict[str, Any] = {
        "TableName": store.table,
        "FilterExpression": "sk = :round AND #s IN (:c, :o, :p)",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":round": {"S": ROUND_SK},
            ":c": {"S": "crashed"},
            ":o": {"S": "cashed_out"},
            ":p": {"S": "paid"},
        },
        "Segment": segment,
        "TotalSegments": segments,
        "ConsistentRead": True,
    }
    while True:
        page = store.client.scan(**kwargs)
        for item in page.get("Items", []):
            try:
                stored = _round(item)
            except (KeyError, TypeError, ValueError):
                if unreadable is not None:
                    unreadable.append(item["pk"]["S"])
                continue
            yield stored
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

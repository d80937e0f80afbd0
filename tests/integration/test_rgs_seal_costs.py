"""What sealing costs in KMS calls (moto's KMS, counted per call as the SDK sends it), what a sealed value
refuses (another item's place, another key), and what happens to sessions and rounds stored before sealing.

Each ``Sealer`` stands for one warm execution environment: its own data key and cache of opened keys."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from croupier import fairness
from croupier.rgs.credentials import token_hash
from croupier.rgs.curve import time_to_reach
from croupier.rgs.game import Game
from croupier.rgs.sealing import DATA_KEY_MAX_AGE_SECONDS, Sealer, SealError, _b64
from croupier.rgs.sessions import Sessions
from croupier.rgs.store import ROUND_SK, SESSION_SK, RgsStore, round_pk, session_pk
from croupier_local.aws_services import client as aws_client
from croupier_local.aws_services import create_seed_key
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.moto_server import MotoServer
from tests.support.rgs_game import World, bet, cash_out, crash_of, world_of_its_own


class Environment:
    """One execution environment's sealer, with every KMS call it makes counted (by operation)."""

    def __init__(self, endpoint_url: str, key_id: str) -> None:
        self.now = 0.0
        self.calls: Counter[str] = Counter()
        client = aws_client("kms", endpoint_url)
        client.meta.events.register("before-call.kms", self._count)
        self.sealer = Sealer(lambda: client, key_id, monotonic=lambda: self.now)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def taken(self) -> dict[str, int]:
        """The calls counted since the last look."""
        counted = dict(self.calls)
        self.calls.clear()
        return counted


@pytest.fixture
def environments(moto_server: MotoServer, rgs_seed_key: str) -> list[Environment]:
    return [Environment(moto_server.endpoint_url, rgs_seed_key) for _ in range(3)]


@pytest.fixture
def world(
    dynamodb_local: LocalDynamoDB, real_client: Any, tmp_path: Path, environments: list[Environment]
) -> Iterator[World]:
    """A table of its own: a test here leaves a round that does not open behind (no sweeper of another test's
    must meet it)."""
    sealer = environments[0].sealer
    with world_of_its_own(dynamodb_local.endpoint_url, real_client, tmp_path, sealer, "RgsSeal") as created:
        yield created


def game_in(world: World, environment: Environment) -> Game:
    """The world's game as another execution environment runs it (the same table, its own sealer)."""
    store = RgsStore(world.table, lambda: world.store.client, sealer=environment.sealer)
    return Game(store, world.operators.settings, world.game.wallet_for, world.retries, clock_ms=lambda: world.clock.ms)


def test_a_warm_environment_makes_no_kms_call_per_bet_and_a_cold_one_at_most_two(
    world: World, environments: list[Environment]
) -> None:
    launcher, player, other = environments
    token = world.launch()
    assert launcher.taken() == {"GenerateDataKey": 1}  # its first seal: the launch's committed seed
    for _ in range(5):  # the same environment: its data key seals and opens everything
        bet(world, token, 100)
    world.launch("player-2")  # and the next launches
    assert launcher.taken() == {}

    cold = game_in(world, player)
    placed = [cold.bet(token, json.dumps({"amount_minor": 100}).encode()) for _ in range(10)]
    # the first bet opens the seed the launcher sealed (one Decrypt) and seals with a key of its own (one
    # GenerateDataKey); the nine after: none. Two calls for ten bets.
    assert player.taken() == {"Decrypt": 1, "GenerateDataKey": 1}

    world.clock.ms += 60_000
    for answer in placed:  # cash-outs (here: settled as crashed, or at their step) in a third environment
        game_in(world, other).cash_out(token, json.dumps({"round_id": answer["round_id"]}).encode())
    assert other.taken() == {"Decrypt": 1}  # one data key, opened once (the settlement writes plain text)
    assert sum(launcher.calls.values()) + sum(player.calls.values()) == 0


def test_a_data_key_seals_for_a_bounded_time_then_a_new_one_is_made(
    world: World, environments: list[Environment]
) -> None:
    launcher = environments[0]
    token = world.launch()
    bet(world, token, 100)
    assert launcher.taken() == {"GenerateDataKey": 1}
    launcher.now += DATA_KEY_MAX_AGE_SECONDS
    placed = bet(world, token, 100)
    assert launcher.taken() == {"GenerateDataKey": 1}  # a new key; the old one still opens what it sealed
    world.clock.ms += 10 * 60_000
    assert cash_out(world, token, placed["round_id"])["status"] in ("crashed", "paid")
    assert launcher.taken() == {}


def test_a_sealed_value_opens_only_in_its_place_and_with_its_key(
    world: World, moto_server: MotoServer, environments: list[Environment]
) -> None:
    sealer = environments[0].sealer
    seed = "ab" * 32
    sealed = sealer.seal(seed, "session:one/next_seed")
    assert seed not in sealed
    game_in(world, environments[1])  # gives its sealer the table's data keys
    assert environments[1].sealer.open(sealed, "session:one/next_seed") == seed  # any environment, by KMS
    with pytest.raises(SealError):
        sealer.open(sealed, "session:two/next_seed")  # moved to another session
    altered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SealError):
        sealer.open(altered, "session:one/next_seed")
    stranger = Sealer(lambda: aws_client("kms", moto_server.endpoint_url), create_seed_key(moto_server.endpoint_url))
    RgsStore(world.table, lambda: world.store.client, sealer=stranger)
    with pytest.raises((SealError, ClientError)):  # KMS: IncorrectKeyException (a SealError); moto: AccessDenied
        stranger.open(sealed, "session:one/next_seed")  # another key cannot open its data key
    with pytest.raises(RuntimeError, match="RGS_SEED_KEY_ID"):
        Sealer(lambda: None, None).seal(seed, "session:one/next_seed")  # no key: nothing stored in plain text


def test_a_rounds_sealed_fields_copied_onto_another_round_do_not_open_there(world: World) -> None:
    token = world.launch()
    first, second = bet(world, token, 100), bet(world, token, 100)
    client = world.store.client
    item = client.get_item(TableName=world.table, Key={"pk": {"S": round_pk(first["round_id"])}, "sk": {"S": ROUND_SK}})
    client.update_item(
        TableName=world.table,
        Key={"pk": {"S": round_pk(second["round_id"])}, "sk": {"S": ROUND_SK}},
        UpdateExpression="SET sealed = :s",
        ExpressionAttributeValues={":s": item["Item"]["sealed"]},
    )
    with pytest.raises(SealError):
        crash_of(world, second["round_id"])


def test_sessions_and_rounds_stored_before_sealing_play_on_and_settle(world: World) -> None:
    """Migration: a plain ``next_seed`` is taken as it is (and the next one committed sealed); a round holding
    its seed and crash point in plain text (no ``sealed``) settles and reveals them as before."""
    token = world.launch()
    plain = "cd" * 32
    client = world.store.client
    client.update_item(
        TableName=world.table,
        Key={"pk": {"S": session_pk(token_hash(token))}, "sk": {"S": SESSION_SK}},
        UpdateExpression="SET next_seed = :s, next_seed_hash = :h",
        ExpressionAttributeValues={":s": {"S": plain}, ":h": {"S": fairness.seed_hash(plain)}},
    )
    placed = bet(world, token, 100, client_seed="old")
    assert placed["server_seed_hash"] == fairness.seed_hash(plain)
    key = {"pk": {"S": round_pk(placed["round_id"])}, "sk": {"S": ROUND_SK}}
    item = client.get_item(TableName=world.table, Key=key, ConsistentRead=True)["Item"]
    crash = crash_of(world, placed["round_id"])
    old_round = {**json.loads(item["round"]["S"]), "server_seed": plain, "crash_cents": crash}
    client.update_item(  # as a round was stored before sealing
        TableName=world.table,
        Key=key,
        UpdateExpression="SET #r = :r REMOVE sealed",
        ExpressionAttributeNames={"#r": "round"},
        ExpressionAttributeValues={":r": {"S": json.dumps(old_round)}},
    )
    world.clock.ms += time_to_reach(max(crash, 100))
    view = cash_out(world, token, placed["round_id"])
    assert view["status"] == "crashed"
    assert view["server_seed"] == plain
    assert view["crash_point"] == f"{crash / 100:.2f}"
    session = client.get_item(
        TableName=world.table, Key={"pk": {"S": session_pk(token_hash(token))}, "sk": {"S": SESSION_SK}}
    )["Item"]
    assert session["next_seed"]["S"].startswith("s2.")  # the seed committed by that bet is sealed


def test_sessions_launch_seals_before_it_writes(world: World) -> None:
    """A launch whose sealer has no key fails before anything is stored (never a plain seed for want of one)."""
    keyless = Sessions(RgsStore(world.table, lambda: world.store.client), world.operators, clock=world.clock.seconds)
    world.sessions = keyless
    with pytest.raises(RuntimeError, match="no sealer"):
        world.launch("keyless")
    found = world.store.client.scan(
        TableName=world.table,
        FilterExpression="sk = :s AND contains(#session, :p)",
        ExpressionAttributeNames={"#session": "session"},
        ExpressionAttributeValues={":s": {"S": SESSION_SK}, ":p": {"S": '"keyless"'}},
        ConsistentRead=True,
    )
    assert found["Items"] == []


def test_a_sealed_value_carries_only_its_data_keys_id_and_each_key_is_stored_and_read_once(
    world: World, environments: list[Environment]
) -> None:
    """One key item per data key, written when the key is made; an environment opening values of another's key
    reads that item once (then keeps the opened key), and calls KMS once."""
    launcher, player = environments[0], environments[1]
    token = world.launch()
    launcher.taken()
    items = world.store.client.scan(
        TableName=world.table,
        FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": "SEALKEY#"}},
        ConsistentRead=True,
    )["Items"]
    assert len(items) == 1
    assert items[0]["sk"]["S"] == "SEALKEY"
    key_id = items[0]["pk"]["S"].removeprefix("SEALKEY#")
    session = world.store.client.get_item(
        TableName=world.table, Key={"pk": {"S": session_pk(token_hash(token))}, "sk": {"S": SESSION_SK}}
    )["Item"]
    prefix, carried, _, _ = session["next_seed"]["S"].split(".")
    assert (prefix, carried) == ("s2", key_id)
    assert len(session["next_seed"]["S"]) < 160  # ~370 with its encrypted data key in it

    reads: list[str] = []
    client = world.store.client

    def note(params: dict[str, Any], **_: Any) -> None:
        reads.append(params["Key"]["pk"]["S"])

    client.meta.events.register("provide-client-params.dynamodb.GetItem", note)
    try:
        cold = game_in(world, player)
        for _ in range(3):
            cold.bet(token, json.dumps({"amount_minor": 100}).encode())
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.GetItem", note)
    assert [pk for pk in reads if pk.startswith("SEALKEY#")] == [f"SEALKEY#{key_id}"]
    assert player.taken() == {"Decrypt": 1, "GenerateDataKey": 1}


def test_values_sealed_with_their_data_key_in_them_still_open(
    world: World, environments: list[Environment], moto_server: MotoServer, rgs_seed_key: str
) -> None:
    """Migration: a session's seed and a round's sealed fields as they were stored before data keys had items of
    their own (``s1.<encrypted data key>.<nonce>.<ciphertext>``) open, in play, with one KMS call for the key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from croupier.rgs.sealing import ENCRYPTION_CONTEXT

    kms = aws_client("kms", world.store.sealer._kms_factory().meta.endpoint_url)
    made = kms.generate_data_key(
        KeyId=world.store.sealer._key(), KeySpec="AES_256", EncryptionContext=ENCRYPTION_CONTEXT
    )

    def old_seal(plaintext: str, where: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(made["Plaintext"]).encrypt(nonce, plaintext.encode(), where.encode())
        return ".".join(("s1", _b64(made["CiphertextBlob"]), _b64(nonce), _b64(sealed)))

    token = world.launch()
    seed = "ef" * 32
    hashed = token_hash(token)
    client = world.store.client
    client.update_item(
        TableName=world.table,
        Key={"pk": {"S": session_pk(hashed)}, "sk": {"S": SESSION_SK}},
        UpdateExpression="SET next_seed = :s, next_seed_hash = :h",
        ExpressionAttributeValues={
            ":s": {"S": old_seal(seed, f"session:{hashed}/next_seed")},
            ":h": {"S": fairness.seed_hash(seed)},
        },
    )
    reader = environments[2]
    placed = game_in(world, reader).bet(token, json.dumps({"amount_minor": 100}).encode())
    assert placed["server_seed_hash"] == fairness.seed_hash(seed)  # the old value opened: its seed was played
    assert reader.taken() == {"Decrypt": 1, "GenerateDataKey": 1}

    crash = crash_of(world, placed["round_id"])
    key = {"pk": {"S": round_pk(placed["round_id"])}, "sk": {"S": ROUND_SK}}
    old = old_seal(
        json.dumps({"crash_cents": crash, "server_seed": seed}, sort_keys=True), f"round:{placed['round_id']}/sealed"
    )
    client.update_item(
        TableName=world.table, Key=key, UpdateExpression="SET sealed = :s", ExpressionAttributeValues={":s": {"S": old}}
    )
    assert crash_of(world, placed["round_id"]) == crash
    world.clock.ms += time_to_reach(max(crash, 100))
    view = cash_out(world, token, placed["round_id"])
    assert view["status"] == "crashed"
    assert view["server_seed"] == seed

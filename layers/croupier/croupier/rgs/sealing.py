"""Sealed seeds: envelope encryption of what must stay secret until a round settles (a session's committed
next seed, an open round's server seed and crash point), so that reading the table tells nothing of them.

A sealed value is one string, ``s2.<key id>.<nonce>.<ciphertext>`` (base64url, no padding): the id of the
AES-256-GCM data key that sealed it, a random 96-bit nonce, and the ciphertext with its tag. The data key
itself, as KMS encrypted it (``GenerateDataKey`` on the key ``RGS_SEED_KEY_ID``, under the encryption context
:data:`ENCRYPTION_CONTEXT`), is stored once, in a key item of its own (:class:`DataKeys`: the RGS table's
``SEALKEY#<id>``), written before the first value it seals; so a sealed value weighs ~150 bytes, not the ~370
it did when each carried its ~167-byte encrypted key (and a session item holding two stays under 1 KB: one
write unit per bet). Values sealed before, ``s1.<data key>.<nonce>.<ciphertext>``, still open. The associated
data is the value's place (``session:<token hash>/next_seed``, ``round:<id>/sealed``): a ciphertext copied to
another item or field does not open there.

KMS calls, per warm execution environment: one ``GenerateDataKey`` per :data:`DATA_KEY_MAX_AGE_SECONDS` or
:data:`DATA_KEY_MAX_USES` seals (the key is then kept, as a decrypted key, for opening what it sealed), and one
``Decrypt`` per data key another environment made, the first time this one opens a value of it (after one read
of its key item; then kept in a bounded LRU of :data:`OPENED_KEYS` keys). So a bet costs no KMS call once the
environment is warm, and an environment's first bet at most two. ``cryptography`` is imported on the first seal
or open only: functions that never seal do not pay its import.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from croupier.lru import BoundedLru

PREFIX = "s2"
LEGACY_PREFIX = "s1"
"""Values sealed before data keys had items of their own: each carries its encrypted data key."""
KEY_ID_BYTES = 12
"""A data key's id: 96 random bits (16 characters), unique by chance and by its key item's conditional put."""
ENCRYPTION_CONTEXT = {"croupier": "rgs-seeds"}
"""KMS's encryption context of every data key: a data key made for another use of the key does not open here."""
DATA_KEY_MAX_AGE_SECONDS = 300.0
"""A data key seals for at most 5 minutes in one environment ..."""
DATA_KEY_MAX_USES = 1_000_000
"""... and at most this many values (random 96-bit nonces stay far below GCM's 2^32 bound)."""
OPENED_KEYS = 1024
"""Decrypted data keys kept per environment (other environments' keys of the last hours, at most)."""
KEY_ENV = "RGS_SEED_KEY_ID"


class SealError(Exception):
    """A sealed value that does not open: altered, moved to another item, or not sealed by this key."""


class DataKeys(Protocol):
    """Where the encrypted data keys are kept, once each (the data layer's key items)."""

    def put_data_key(self, key_id: str, encrypted: bytes) -> None:
        """Store a new data key (conditionally: an id is never reused); raises if it cannot be stored."""
        ...

    def data_key(self, key_id: str) -> bytes | None:
        """The encrypted data key of ``key_id`` (None: no such key)."""
        ...


@dataclass(slots=True)
class _DataKey:
    plaintext: bytes
    key_id: str  # as written in each value it seals
    made_at: float
    uses: int = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_sealed(value: str) -> bool:
    return value.startswith((PREFIX + ".", LEGACY_PREFIX + "."))


class Sealer:
    """Seals and opens values with KMS data keys (``kms_factory``: a KMS client; ``key_id``: the KMS key,
    ``RGS_SEED_KEY_ID`` in the functions; a seal without one fails, loudly: nothing is ever stored in plain
    text for want of a key). ``keys`` keeps the encrypted data keys; the RGS store gives a sealer without one
    its table's key items (:class:`croupier.rgs.store.RgsStore`)."""

    def __init__(
        self,
        kms_factory: Callable[[], Any],
        key_id: str | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_age_seconds: float = DATA_KEY_MAX_AGE_SECONDS,
        max_uses: int = DATA_KEY_MAX_USES,
        keys: DataKeys | None = None,
    ) -> None:
        self.keys = keys
        self._kms_factory = kms_factory
        self._key_id = key_id
        self._monotonic = monotonic
        self._max_age = max_age_seconds
        self._max_uses = max_uses
        self._current: _DataKey | None = None
        self._opened: BoundedLru[str, bytes] = BoundedLru(OPENED_KEYS)
        self._lock = threading.Lock()

    def _keys(self) -> DataKeys:
        if self.keys is None:
            raise RuntimeError("this sealer has no place for its data keys (an RgsStore gives it its table's)")
        return self.keys

    def _key(self) -> str:
        key_id = self._key_id
        if not key_id:
            raise RuntimeError(f"{KEY_ENV} is not set: the RGS cannot seal seeds")
        return key_id

    def _data_key(self) -> _DataKey:
        with self._lock:
            current = self._current
            if (
                current is None
                or current.uses >= self._max_uses
                or self._monotonic() - current.made_at >= self._max_age
            ):
                key_id = self._key()  # no key, or nowhere to keep it: fail before any call
                keys = self._keys()
                answer = self._kms_factory().generate_data_key(
                    KeyId=key_id, KeySpec="AES_256", EncryptionContext=ENCRYPTION_CONTEXT
                )
                data_key_id = _b64(secrets.token_bytes(KEY_ID_BYTES))
                keys.put_data_key(data_key_id, bytes(answer["CiphertextBlob"]))  # stored before it seals anything
                current = _DataKey(bytes(answer["Plaintext"]), data_key_id, self._monotonic())
                self._current = current
                self._opened.put(f"{PREFIX}.{data_key_id}", current.plaintext)
            current.uses += 1
            return current

    def seal(self, plaintext: str, where: str) -> str:
        """``plaintext`` sealed for its place ``where`` (the associated data)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self._data_key()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key.plaintext).encrypt(nonce, plaintext.encode("utf-8"), where.encode("utf-8"))
        return ".".join((PREFIX, key.key_id, _b64(nonce), _b64(sealed)))

    def open(self, sealed: str, where: str) -> str:
        """The plaintext of a value sealed for ``where``; :class:`SealError` if it does not open there."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        parts = sealed.split(".")
        if len(parts) != 4 or parts[0] not in (PREFIX, LEGACY_PREFIX):
            raise SealError("not a sealed value")
        prefix, key_ref, nonce, ciphertext = parts
        cached = f"{prefix}.{key_ref}"  # a key id (s2) or, for a value sealed before, its encrypted key (s1)
        key = self._opened.get(cached)
        if key is None:
            if prefix == PREFIX:
                encrypted = self._keys().data_key(key_ref)
                if encrypted is None:
                    raise SealError("no such data key")
            else:
                encrypted = _unb64(key_ref)
            key = self._decrypt(encrypted)
            self._opened.put(cached, key)
        try:
            return AESGCM(key).decrypt(_unb64(nonce), _unb64(ciphertext), where.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError) as error:
            raise SealError(f"the value does not open as {where}") from error

    def _decrypt(self, encrypted: bytes) -> bytes:
        """A data key, as KMS decrypts it (:class:`SealError` if this key did not encrypt it)."""
        try:
            answer = self._kms_factory().decrypt(
                CiphertextBlob=encrypted, EncryptionContext=ENCRYPTION_CONTEXT, KeyId=self._key()
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise SealError("the data key does not open with this key") from error
            raise
        return bytes(answer["Plaintext"])

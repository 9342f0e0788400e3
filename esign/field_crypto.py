"""Personal data encrypted at rest, column by column (KVKK: the TC Kimlik No and the birth date).

- Encryption: AES-256-GCM (``cryptography``). The stored text is ``v1.<key id>.<base64url(nonce
  || ciphertext || tag)>``: the key id says which key opens it, so a new key can encrypt while the
  old ones still decrypt (rotation). The associated data is ``<table>.<column>:<row id>``, so a
  ciphertext copied into another row or column does not open there.
- Look-ups and uniqueness: HMAC-SHA256 with its own key over ``<table>.<column>:<value>``. A
  plain hash of an 11-digit number is reversed by trying them all; without the key it is not.
  Look-up keys have ids too and rotate the same way: the first hashes, a look-up tries them all,
  and the hash is stored with its key id so a worker can recompute it under the new key.

Keys come from settings as text (``FieldKeys.parse``); they never appear in a repr, a log line,
an exception or an event. Pure: no database, no web framework.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = "v1"
# A look-up key given bare (base64, no id), as before look-up keys had ids, has this id.
LEGACY_LOOKUP_KEY_ID = "l1"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_NONCE_BYTES = 12


class FieldCryptoError(Exception):
    """A ciphertext that cannot be opened or a key setting that cannot be read. The message names
    the key id or the setting's shape, never a key or a value."""


@dataclass(frozen=True)
class FieldAddress:
    """Where a value lives: bound into the ciphertext as associated data."""

    table: str
    column: str
    row_id: str

    def associated_data(self) -> bytes:
        return f"{self.table}.{self.column}:{self.row_id}".encode()


@dataclass(frozen=True)
class FieldKeys:
    """``current`` encrypts; every key in ``keys`` decrypts what it encrypted; ``lookup_current``
    keys the HMAC and every key in ``lookup_keys`` is tried by a look-up. Held as bytes and never
    shown (``repr=False``)."""

    current: str
    keys: dict[str, bytes] = field(repr=False)
    lookup_current: str
    lookup_keys: dict[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise FieldCryptoError(f"the current key id {self.current!r} has no key")
        if self.lookup_current not in self.lookup_keys:
            raise FieldCryptoError(f"the current look-up key id {self.lookup_current!r} has no key")
        if any(len(k) != 32 for k in self.keys.values()):
            raise FieldCryptoError("each encryption key must be 32 bytes (AES-256)")
        if any(len(k) < 32 for k in self.lookup_keys.values()):
            raise FieldCryptoError("each look-up key must be at least 32 bytes")

    @classmethod
    def parse(cls, encryption_keys: str, lookup_key: str) -> FieldKeys:
        """``encryption_keys``: ``id:base64key`` items separated by commas, the first one
        encrypting (put a new key first to rotate, keep the old ones after it until every row is
        re-encrypted). ``lookup_key``: the same shape, the first hashing (rotate as above, until
        every hash is recomputed); or one bare base64 key, whose id is ``LEGACY_LOOKUP_KEY_ID``."""
        keys = _parse_keys(encryption_keys, "encryption keys")
        lookup_text = lookup_key.strip()
        if ":" in lookup_text:  # base64 has no colon: an id list
            lookup_keys = _parse_keys(lookup_text, "look-up keys")
        else:
            lookup_keys = {LEGACY_LOOKUP_KEY_ID: _b64decode(lookup_text, "the look-up key")}
        return cls(next(iter(keys)), keys, next(iter(lookup_keys)), lookup_keys)

    @staticmethod
    def generate(key_id: str | None = None) -> tuple[str, str]:
        """A fresh (encryption_keys, lookup_key) pair of settings values."""
        key_id = key_id or f"k{secrets.token_hex(4)}"
        return (
            f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}",
            base64.b64encode(secrets.token_bytes(32)).decode(),
        )


def _parse_keys(text: str, what: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in text.split(",")):
        key_id, colon, encoded = item.partition(":")
        if not colon or not _KEY_ID.fullmatch(key_id):
            raise FieldCryptoError(f"{what} must read id:base64key[,id:base64key...]")
        if key_id in keys:
            raise FieldCryptoError(f"key id {key_id!r} appears twice")
        keys[key_id] = _b64decode(encoded, f"key {key_id!r}")
    return keys


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FieldCryptoError(f"{what} is not base64") from None


class FieldCipher:
    def __init__(self, keys: FieldKeys) -> None:
        self._keys = keys
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    def __repr__(self) -> str:
        return (
            f"FieldCipher(current={self._keys.current!r}, key_ids={sorted(self._keys.keys)!r}, "
            f"lookup_current={self._keys.lookup_current!r})"
        )

    @property
    def current_key_id(self) -> str:
        return self._keys.current

    def encrypt(self, plaintext: str, where: FieldAddress) -> str:
        nonce = os.urandom(_NONCE_BYTES)  # random 96-bit nonces: safe far beyond our row counts
        sealed = self._aead[self._keys.current].encrypt(nonce, plaintext.encode(), where.associated_data())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{FORMAT_VERSION}.{self._keys.current}.{body}"

    def decrypt(self, stored: str, where: FieldAddress) -> str:
        _, key_id, body = _split(stored)
        aead = self._aead.get(key_id)
        if aead is None:
            raise FieldCryptoError(f"no key with id {key_id!r} (was it removed before its rows were re-encrypted?)")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], where.associated_data()).decode()
        except (InvalidTag, ValueError, binascii.Error):
            # Wrong key, a tampered value, or one copied from another row or column.
            raise FieldCryptoError(f"a {where.table}.{where.column} value does not open with key {key_id!r}") from None

    def needs_reencryption(self, stored: str) -> bool:
        """True when ``stored`` was encrypted with a key that is no longer the current one."""
        return _split(stored)[1] != self._keys.current

    @property
    def current_lookup_key_id(self) -> str:
        return self._keys.lookup_current

    def lookup_hash(self, value: str, *, table: str, column: str) -> str:
        """The keyed hash to store a value's look-up by (under the current look-up key), as 64
        hex characters."""
        return self.lookup_hashes(value, table=table, column=column)[self._keys.lookup_current]

    def lookup_hashes(self, value: str, *, table: str, column: str) -> dict[str, str]:
        """The value's hash under every configured look-up key, by key id: a look-up matches any,
        so rows hashed before a rotation are still found."""
        message = f"{table}.{column}:{value}".encode()
        return {
            key_id: hmac.new(key, message, hashlib.sha256).hexdigest() for key_id, key in self._keys.lookup_keys.items()
        }


def is_encrypted(stored: str) -> bool:
    return stored.startswith(FORMAT_VERSION + ".") and stored.count(".") >= 2


def _split(stored: str) -> tuple[str, str, str]:
    version, _, rest = stored.partition(".")
    key_id, _, body = rest.partition(".")
    if version != FORMAT_VERSION or not key_id or not body:
        raise FieldCryptoError("not a value this module encrypted")
    return version, key_id, body

"""Sealed boxes (libsodium, via PyNaCl) for secrets that one service creates and only another
may read: the invitation's link token and access password are sealed by the applications
service with the notifications service's public key. The ciphertext can sit in an outbox row
or a stream; without the private key it is noise."""

from __future__ import annotations

import base64
import json
from typing import Any

from nacl.public import PrivateKey, PublicKey, SealedBox


def generate_keypair() -> tuple[str, str]:
    """Returns (private, public) as base64 text, for configuration."""
    key = PrivateKey.generate()
    return base64.b64encode(bytes(key)).decode(), base64.b64encode(bytes(key.public_key)).decode()


def seal(public_key_b64: str, payload: dict[str, Any]) -> str:
    box = SealedBox(PublicKey(base64.b64decode(public_key_b64)))
    return base64.b64encode(box.encrypt(json.dumps(payload).encode())).decode()


def unseal(private_key_b64: str, sealed: str) -> dict[str, Any]:
    box = SealedBox(PrivateKey(base64.b64decode(private_key_b64)))
    return json.loads(box.decrypt(base64.b64decode(sealed)))

"""How secrets are kept: Argon2id (argon2-cffi) for the security word, which a person chooses;
salted PBKDF2-HMAC-SHA256 for the invitation's access password, which the system generates with
at least 80 bits of entropy (docs/benchmarks.md, "Invitations", says why that needs no memory-hard
hash). Invitation passwords hashed with Argon2id before that change still verify."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.applications.config import ApplicationsSettings


class Argon2Hasher:
    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        try:
            return self._hasher.verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


class GeneratedSecretHasher:
    """PBKDF2-HMAC-SHA256 with a 128-bit salt, for secrets the system generates with at least
    80 bits of entropy: guessing one takes ~2^79 tries whatever the hash costs, so the cost that
    protects human-chosen passwords (Argon2id's memory) buys nothing here but CPU on every issue.
    Stored as ``pbkdf2-sha256$<iterations>$<salt>$<key>``; an Argon2 hash (issued before) is
    verified by ``legacy``."""

    SCHEME = "pbkdf2-sha256"

    def __init__(self, iterations: int, legacy: Argon2Hasher) -> None:
        self._iterations = iterations
        self._legacy = legacy

    def hash(self, secret: str) -> str:
        salt = os.urandom(16)
        key = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, self._iterations)
        return f"{self.SCHEME}${self._iterations}${_b64(salt)}${_b64(key)}"

    def verify(self, hashed: str, secret: str) -> bool:
        if hashed.startswith("$argon2"):
            return self._legacy.verify(hashed, secret)
        try:
            scheme, iterations, salt, key = hashed.split("$")
            if scheme != self.SCHEME:
                return False
            computed = hashlib.pbkdf2_hmac("sha256", secret.encode(), _unb64(salt), int(iterations))
        except ValueError:  # not one of ours: malformed
            return False
        return hmac.compare_digest(computed, _unb64(key))


def security_word_hasher(settings: ApplicationsSettings) -> Argon2Hasher:
    return Argon2Hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


def invitation_hasher(settings: ApplicationsSettings) -> GeneratedSecretHasher:
    return GeneratedSecretHasher(settings.invitation_pbkdf2_iterations, legacy=security_word_hasher(settings))

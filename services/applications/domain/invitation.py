"""Invitations: an unguessable link token plus a generated access password, both kept only as
hashes, expiring, re-issuable (the old pair stops working), locked after repeated wrong
passwords. Hashing is a port: the domain does not know it is Argon2."""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# No 0/O, 1/l/I: the password is read from an e-mail and typed by hand.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
PASSWORD_LENGTH = 14  # 14 x log2(57) = 81.6 bits: at least 80, so a fast salted hash is enough


class PasswordHasher(Protocol):
    def hash(self, secret: str) -> str: ...
    def verify(self, hashed: str, secret: str) -> bool: ...


class InvitationState(enum.StrEnum):
    PENDING = "pending"  # secrets not generated yet (a large roster is issued in the background)
    ISSUED = "issued"


class SignInRefused(Exception):
    code = "sign_in_refused"
    status = 401

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.extra = extra


class InvalidCredentials(SignInRefused):
    code = "invalid_credentials"


class InvitationLocked(SignInRefused):
    code = "invitation_locked"
    status = 423


class InvitationExpired(SignInRefused):
    code = "invitation_expired"
    status = 410


def hash_token(token: str) -> str:
    # The link token has 256 bits of entropy, so a fast hash is enough and allows lookup by hash.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedSecrets:
    """Plaintext secrets: exist only in memory, long enough to be sealed for notifications."""

    token: str
    password: str


@dataclass
class Invitation:
    id: uuid.UUID
    application_id: uuid.UUID
    state: InvitationState = InvitationState.PENDING
    token_hash: str | None = None
    password_hash: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    failed_attempts: int = 0
    locked_until: datetime | None = None
    times_issued: int = 0

    def issue(self, hasher: PasswordHasher, now: datetime, ttl: timedelta) -> IssuedSecrets:
        secrets_ = IssuedSecrets(
            token=secrets.token_urlsafe(32),
            password="".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH)),
        )
        self.token_hash = hash_token(secrets_.token)
        self.password_hash = hasher.hash(secrets_.password)
        self.state = InvitationState.ISSUED
        self.issued_at = now
        self.expires_at = now + ttl
        self.failed_attempts = 0
        self.locked_until = None
        self.times_issued += 1
        return secrets_

    def sign_in(
        self,
        password: str,
        hasher: PasswordHasher,
        now: datetime,
        max_attempts: int,
        lockout: timedelta,
    ) -> None:
        """Raises SignInRefused, or returns when the password is right. The caller persists the
        invitation either way: failed attempts must be counted even when sign-in is refused."""
        if self.state is not InvitationState.ISSUED or self.password_hash is None:
            raise InvalidCredentials("The link or the access password is not right.")
        if self.locked_until and now < self.locked_until:
            raise InvitationLocked(
                "Too many wrong passwords; try again later.",
                retry_after=int((self.locked_until - now).total_seconds()) + 1,
            )
        if self.expires_at and now >= self.expires_at:
            raise InvitationExpired("This invitation has expired; ask your institution's NES officer for a new one.")
        if not hasher.verify(self.password_hash, password):
            self.failed_attempts += 1
            if self.failed_attempts >= max_attempts:
                self.failed_attempts = 0
                self.locked_until = now + lockout
                raise InvitationLocked(
                    "Too many wrong passwords; try again later.",
                    retry_after=int(lockout.total_seconds()),
                )
            raise InvalidCredentials(
                "The link or the access password is not right.",
                attempts_left=max_attempts - self.failed_attempts,
            )
        self.failed_attempts = 0
        self.locked_until = None

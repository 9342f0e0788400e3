"""Invitation rules: hashes only, expiry, lockout after repeated wrong passwords, re-issue."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.applications.domain.invitation import (
    PASSWORD_ALPHABET,
    InvalidCredentials,
    Invitation,
    InvitationExpired,
    InvitationLocked,
    hash_token,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
LOCKOUT = timedelta(minutes=15)


class PlainHasher:
    """Stands in for Argon2 here: these tests are about the rules, not the hash function."""

    def hash(self, secret: str) -> str:
        return "h:" + secret[::-1]

    def verify(self, hashed: str, secret: str) -> bool:
        return hashed == self.hash(secret)


def issued() -> tuple[Invitation, str, str]:
    inv = Invitation(id=uuid.uuid4(), application_id=uuid.uuid4())
    secrets = inv.issue(PlainHasher(), NOW, timedelta(days=30))
    return inv, secrets.token, secrets.password


def test_issue_keeps_only_hashes():
    inv, token, password = issued()
    assert inv.token_hash == hash_token(token) and token not in inv.token_hash
    assert password not in inv.password_hash
    assert len(password) == 14 and set(password) <= set(PASSWORD_ALPHABET)
    assert len(token) >= 43  # 32 random bytes


def test_right_password_signs_in_and_resets_the_count():
    inv, _, password = issued()
    with pytest.raises(InvalidCredentials):
        inv.sign_in("nope", PlainHasher(), NOW, 5, LOCKOUT)
    inv.sign_in(password, PlainHasher(), NOW, 5, LOCKOUT)
    assert inv.failed_attempts == 0


def test_fifth_wrong_password_locks_for_the_lockout_then_allows_again():
    inv, _, password = issued()
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidCredentials) as exc:
            inv.sign_in("nope", PlainHasher(), NOW, 5, LOCKOUT)
        assert exc.value.extra["attempts_left"] == left
    with pytest.raises(InvitationLocked):
        inv.sign_in("nope", PlainHasher(), NOW, 5, LOCKOUT)
    with pytest.raises(InvitationLocked):
        inv.sign_in(password, PlainHasher(), NOW + LOCKOUT - timedelta(seconds=1), 5, LOCKOUT)
    inv.sign_in(password, PlainHasher(), NOW + LOCKOUT, 5, LOCKOUT)


def test_expired_invitation_is_refused_even_with_the_right_password():
    inv, _, password = issued()
    with pytest.raises(InvitationExpired):
        inv.sign_in(password, PlainHasher(), NOW + timedelta(days=30), 5, LOCKOUT)


def test_reissue_replaces_both_secrets_and_clears_a_lock():
    inv, token, password = issued()
    inv.locked_until = NOW + LOCKOUT
    fresh = inv.issue(PlainHasher(), NOW, timedelta(days=30))
    assert fresh.token != token and inv.token_hash == hash_token(fresh.token)
    assert inv.locked_until is None and inv.times_issued == 2
    with pytest.raises(InvalidCredentials):
        inv.sign_in(password, PlainHasher(), NOW, 5, LOCKOUT)


def test_a_pending_invitation_cannot_be_used():
    inv = Invitation(id=uuid.uuid4(), application_id=uuid.uuid4())
    with pytest.raises(InvalidCredentials):
        inv.sign_in("anything", PlainHasher(), NOW, 5, LOCKOUT)

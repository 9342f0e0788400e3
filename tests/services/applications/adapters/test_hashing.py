"""The invitation password's hash: a salted PBKDF2 for new ones, Argon2id hashes issued before
still verify, and the password it protects has the entropy that decision rests on."""

from __future__ import annotations

import math

from services.applications.adapters.hashing import Argon2Hasher, GeneratedSecretHasher, invitation_hasher
from services.applications.config import ApplicationsSettings
from services.applications.domain.invitation import PASSWORD_ALPHABET, PASSWORD_LENGTH

LEGACY = Argon2Hasher(time_cost=1, memory_kib=8192)


def test_generated_passwords_have_at_least_80_bits():
    assert len(set(PASSWORD_ALPHABET)) == len(PASSWORD_ALPHABET)
    assert PASSWORD_LENGTH * math.log2(len(PASSWORD_ALPHABET)) >= 80


def test_new_hashes_are_salted_pbkdf2_and_verify_only_the_right_password():
    hasher = GeneratedSecretHasher(1_000, legacy=LEGACY)
    first, second = hasher.hash("Kp7mWq2xRt9zHa"), hasher.hash("Kp7mWq2xRt9zHa")
    assert first.startswith("pbkdf2-sha256$1000$") and first != second  # a salt of its own each time
    assert hasher.verify(first, "Kp7mWq2xRt9zHa") and hasher.verify(second, "Kp7mWq2xRt9zHa")
    assert not hasher.verify(first, "Kp7mWq2xRt9zHb")
    assert "Kp7mWq2xRt9zHa" not in first


def test_argon2id_hashes_issued_before_still_verify():
    hasher = GeneratedSecretHasher(1_000, legacy=LEGACY)
    old = LEGACY.hash("Abc23defGhjk")
    assert old.startswith("$argon2id$")
    assert hasher.verify(old, "Abc23defGhjk") and not hasher.verify(old, "Abc23defGhjK")


def test_malformed_or_foreign_hashes_never_verify():
    hasher = GeneratedSecretHasher(1_000, legacy=LEGACY)
    for stored in ("", "plain", "pbkdf2-sha256$x$y$z", "md5$1$abc$def", "pbkdf2-sha256$1000$!!$??"):
        assert not hasher.verify(stored, "Kp7mWq2xRt9zHa")


def test_the_service_uses_the_configured_iterations():
    stored = invitation_hasher(ApplicationsSettings(invitation_pbkdf2_iterations=1234)).hash("Kp7mWq2xRt9zHa")
    assert stored.startswith("pbkdf2-sha256$1234$")

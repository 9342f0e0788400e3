"""esign.webhooks: HMAC-SHA256 over "timestamp.body", constant-time check, freshness window."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from esign import webhooks

SECRET = b"shared-secret"
BODY = b'{"status":"DELIVERED"}'


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert webhooks.sign(SECRET, 1700000000, BODY) == "sha256=" + expected


def test_a_correct_fresh_signature_verifies_and_names_the_call():
    sig = webhooks.sign(SECRET, 1700000000, BODY)
    verified = webhooks.verify(SECRET, "1700000000", sig, BODY, now=1700000100, tolerance_seconds=300)
    assert verified.timestamp == 1700000000
    assert (
        verified.digest
        == webhooks.verify(SECRET, "1700000000", sig, BODY, now=1700000000, tolerance_seconds=300).digest
    )
    assert sig.removeprefix("sha256=") not in verified.digest  # what is stored is not the signature itself


@pytest.mark.parametrize(
    "timestamp,signature,body,code",
    [
        (None, "sha256=00", BODY, "signature_missing"),
        ("1700000000", None, BODY, "signature_missing"),
        ("yesterday", "sha256=00", BODY, "timestamp_invalid"),
        ("1700000000", "sha256=" + "0" * 64, BODY, "signature_invalid"),
        ("1700000000", webhooks.sign(SECRET, 1700000000, BODY).upper(), BODY, "signature_invalid"),
        ("1700000000", webhooks.sign(SECRET, 1700000000, BODY), BODY + b" ", "signature_invalid"),
        ("1700000001", webhooks.sign(SECRET, 1700000000, BODY), BODY, "signature_invalid"),
        ("1700000000", webhooks.sign(b"other", 1700000000, BODY), BODY, "signature_invalid"),
    ],
)
def test_refusals_have_stable_codes(timestamp, signature, body, code):
    with pytest.raises(webhooks.WebhookRefused) as refused:
        webhooks.verify(SECRET, timestamp, signature, body, now=1700000000, tolerance_seconds=300)
    assert refused.value.code == code


@pytest.mark.parametrize("now", [1700000000 + 301, 1700000000 - 301])
def test_a_timestamp_outside_the_tolerance_is_stale(now):
    sig = webhooks.sign(SECRET, 1700000000, BODY)
    with pytest.raises(webhooks.WebhookRefused) as refused:
        webhooks.verify(SECRET, "1700000000", sig, BODY, now=now, tolerance_seconds=300)
    assert refused.value.code == "timestamp_stale"


def test_a_forged_call_learns_nothing_about_freshness():
    """A bad signature with a stale timestamp is refused as a bad signature (checked first)."""
    with pytest.raises(webhooks.WebhookRefused) as refused:
        webhooks.verify(SECRET, "1", "sha256=" + "0" * 64, BODY, now=1700000000, tolerance_seconds=300)
    assert refused.value.code == "signature_invalid"

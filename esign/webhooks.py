"""Signed webhooks: HMAC-SHA256 over ``"{timestamp}.{raw body}"`` with a freshness window.

The scheme most providers use (Stripe, Slack, GitHub's sha256 header): the sender puts the Unix
timestamp in one header and ``sha256=<hex>`` in another; the receiver recomputes the MAC over the
exact bytes it received, compares in constant time and refuses timestamps outside the tolerance.
Replay within the tolerance is the receiver's to stop (it must remember what it accepted).
Pure functions: no web framework, no database.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_PREFIX = "sha256="


class WebhookRefused(Exception):
    """``code`` is stable: ``signature_missing``, ``signature_invalid``, ``timestamp_invalid``,
    ``timestamp_stale``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VerifiedWebhook:
    timestamp: int
    digest: str  # sha256 of the signature: a short, non-secret key to remember the call by


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + mac


def signed_headers(
    secret: bytes, timestamp: int, body: bytes, *, timestamp_header: str, signature_header: str
) -> dict[str, str]:
    return {timestamp_header: str(timestamp), signature_header: sign(secret, timestamp, body)}


def verify(
    secret: bytes, timestamp: str | None, signature: str | None, body: bytes, *, now: float, tolerance_seconds: int
) -> VerifiedWebhook:
    """Checks the signature first (so an unauthenticated caller learns nothing about our clock),
    then the freshness of the timestamp."""
    if not timestamp or not signature:
        raise WebhookRefused("signature_missing", "The timestamp and signature headers are required.")
    try:
        ts = int(timestamp)
    except ValueError:
        raise WebhookRefused("timestamp_invalid", "The timestamp must be Unix seconds.") from None
    expected = sign(secret, ts, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookRefused("signature_invalid", "The signature does not match the body and timestamp.")
    if abs(now - ts) > tolerance_seconds:
        raise WebhookRefused(
            "timestamp_stale", f"The timestamp is more than {tolerance_seconds} s away from our clock."
        )
    return VerifiedWebhook(ts, hashlib.sha256(expected.encode()).hexdigest())

"""Renewal with e-approval: the rules that do not depend on how certificates are parsed or where
things are stored (the Web eID challenge, the renewal window, single-use preparations, the
Renewal Form link).

Plain Python; the adapters (trust.py, pades.py) do the cryptography.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.applications.domain.form import FieldError, FormDraft, apply_patch

# What the holder may correct in the renewal request; name and TC Kimlik No cannot change
# (a change is another procedure), the e-mail is the institution's.
RENEWAL_EDITABLE_FIELDS = frozenset({"title", "unit", "delivery_address", "mobile", "validity_years"})
NONCE_BYTES = 32  # 256 bits, as Web eID requires at least


class RenewalRefused(Exception):
    """A refusal with a stable code; the API layer renders it as problem+json."""

    status = 409
    code = "renewal_refused"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra
        self.errors: list[FieldError] = []


class CertificateRefused(RenewalRefused):
    status = 403

    def __init__(self, code: str, message: str, *, status: int = 403, **extra: object) -> None:
        super().__init__(message, code=code, status=status, **extra)


class SignatureInvalid(RenewalRefused):
    status = 401
    code = "signature_invalid"


class ChallengeInvalid(RenewalRefused):
    status = 401
    code = "challenge_invalid"


class PreparationInvalid(RenewalRefused):
    status = 409
    code = "preparation_invalid"


class RenewalFormLinkInvalid(RenewalRefused):
    status = 404
    code = "renewal_form_link_invalid"


class RenewalFormLinkExpired(RenewalRefused):
    status = 410
    code = "renewal_form_link_expired"


class RenewalRequestInvalid(RenewalRefused):
    status = 422
    code = "validation_failed"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("Some fields are not valid.")
        self.errors = errors


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sign_in_data(origin: str, nonce_hash: bytes) -> bytes:
    """What the card signs to sign in (Web eID's authentication value): SHA-256 of the origin
    then SHA-256 of the nonce, so a signature made for another site or nonce is useless here."""
    return sha256(origin.encode()) + nonce_hash


@dataclass
class Challenge:
    """A sign-in nonce. Only its hash is kept: that is all the check needs."""

    id: uuid.UUID
    nonce_hash: bytes
    origin: str
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(cls, nonce: bytes, *, origin: str, now: datetime, ttl: timedelta) -> Challenge:
        if len(nonce) < NONCE_BYTES:
            raise ValueError("a nonce needs at least 256 bits")
        return cls(uuid.uuid4(), sha256(nonce), origin, now + ttl)

    def to_sign(self) -> bytes:
        return sign_in_data(self.origin, self.nonce_hash)

    def consume(self, now: datetime) -> None:
        """Single use: marked used whatever happens next, so a failed attempt cannot be retried."""
        if self.used_at is not None or now >= self.expires_at:
            raise ChallengeInvalid("The challenge is unknown, used or expired; start again.")
        self.used_at = now


def window_opens_on(not_after: datetime, window: timedelta) -> date:
    return (not_after - window).date()


def ensure_in_window(not_after: datetime, *, now: datetime, window: timedelta) -> None:
    if now < not_after - window:
        opens = window_opens_on(not_after, window)
        raise RenewalRefused(
            f"Renewal opens on {opens.isoformat()}, {window.days} days before the certificate ends.",
            code="renewal_window_not_open",
            window_opens_on=opens.isoformat(),
        )


def renewal_patch(draft: FormDraft, patch: dict[str, object]) -> FormDraft:
    """The renewal request after the holder's corrections; only the editable fields."""
    errors = [
        FieldError(name, "read_only", "This field cannot change in a renewal.")
        for name in patch
        if name not in RENEWAL_EDITABLE_FIELDS
    ]
    updated, field_errors = apply_patch(draft, {k: v for k, v in patch.items() if k in RENEWAL_EDITABLE_FIELDS})
    errors += field_errors
    # Clearing a required field would leave a request the CA cannot act on.
    errors += [
        FieldError(name, "required", "This field is required.")
        for name in patch
        if name in RENEWAL_EDITABLE_FIELDS and getattr(updated, name) is None
    ]
    if errors:
        raise RenewalRequestInvalid(errors)
    return updated


@dataclass
class Preparation:
    """A PAdES signature prepared for the card: single use, short-lived, for one renewal and one
    certificate. ``state`` is the adapter's opaque prepared document (PDF, digest, attributes)."""

    id: uuid.UUID
    renewal_id: uuid.UUID
    certificate_fingerprint: str
    mechanism: str
    signed_attributes: bytes
    state: dict
    pdf: bytes
    expires_at: datetime
    used_at: datetime | None = None

    def consume(self, renewal_id: uuid.UUID, now: datetime) -> None:
        if self.renewal_id != renewal_id or self.used_at is not None or now >= self.expires_at:
            raise PreparationInvalid("The prepared signature is unknown, used or expired; prepare again.")
        self.used_at = now


@dataclass
class RenewalRecord:
    """What a renewal adds to its application: the certificate it renews and how it was approved."""

    application_id: uuid.UUID
    renewed_application_id: uuid.UUID
    certificate_der: bytes
    certificate_fingerprint: str
    old_serial: str
    old_not_after: datetime
    e_approved_at: datetime | None = None
    signed_pdf: bytes | None = None
    validation_report: dict | None = None
    form_token_hash: str | None = None
    form_link_expires_at: datetime | None = None
    form_approved_at: datetime | None = None

    def open_form_link(self, token_hash: str, now: datetime) -> None:
        if self.form_token_hash is None or self.form_token_hash != token_hash:
            raise RenewalFormLinkInvalid("This Renewal Form link is not valid (a newer one may have been sent).")
        if self.form_link_expires_at and now >= self.form_link_expires_at:
            raise RenewalFormLinkExpired("This Renewal Form link has expired; ask your NES officer to send it again.")

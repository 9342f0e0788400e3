"""Request and response bodies of the applications API. Personal data leaves masked: the TC
Kimlik No as ``123******46``, the birth date as ``**.**.1985`` (the printable PDF is the only
place they appear in full, because the CA matches it against the population registry)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pydantic_core import PydanticCustomError

from esign.params import Instant
from services.applications.adapters.repositories.applications import ApplicationView
from services.applications.adapters.repositories.documents import (
    certificate_to_document,
    form_to_document,
    receipt_to_document,
    shipment_to_document,
)
from services.applications.adapters.trust import Mechanism
from services.applications.domain.application import SignedFormChannel, Status
from services.applications.domain.contact import FieldInvalid, mask_birth_date
from services.applications.domain.form import SECURITY_WORD_PATTERN, validate_security_word
from services.applications.domain.tckn import mask_tckn

_strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InstitutionIn(BaseModel):
    model_config = _strict
    name: str = Field(min_length=2, max_length=200, examples=["Örnek Üniversitesi"])


class InstitutionOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class OfficerIn(BaseModel):
    model_config = _strict
    subject: str = Field(min_length=3, max_length=200, description="The officer's login: the `sub` of their tokens.")
    full_name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    mobile: str | None = Field(None, max_length=20)


class OfficerOut(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    subject: str
    full_name: str
    email: str
    mobile: str | None


class RosterImportOut(BaseModel):
    received: int = Field(description="Valid rows in the file.")
    created: int = Field(description="New people; each gets an application and an invitation.")
    already_known: int = Field(description="Rows for people this institution already has (not duplicated).")
    already_known_lines: list[int]
    invitations: Literal["pending", "none"] = Field(
        description="`pending`: the new people's invitations are issued in the background, in order. "
        "`none`: nobody new, so no invitation goes out."
    )


class PersonOut(BaseModel):
    tckn_masked: str
    first_name: str
    last_name: str
    birth_date_masked: str
    birth_place: str | None = Field(
        description="Place of birth, as the printed form shows it: from the staff list's optional "
        "`Doğum Yeri` column; null when the list had none (the form leaves it blank then)."
    )
    title: str
    unit: str
    email: str
    mobile: str


class InvitationOut(BaseModel):
    state: str | None
    expires_at: datetime | None
    locked_until: datetime | None
    times_issued: int | None


class ApplicationOut(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str = Field(description="As printed on the form.")
    status: Status
    person: PersonOut
    form: dict[str, Any]
    invitation: InvitationOut
    signed_form: dict[str, Any] | None
    batch_id: uuid.UUID | None
    rejection_reason: str | None
    certificate: dict[str, Any] | None
    shipment: dict[str, Any] | None
    kind: str = Field("first", description="`first` or `renewal` (a renewal's e-approval: /e-approval).")
    renews_application_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_view(cls, view: ApplicationView) -> ApplicationOut:
        person = view.person
        return cls(
            id=view.id,
            institution_id=view.institution_id,
            institution_name=view.institution_name,
            status=view.status,
            person=PersonOut(
                tckn_masked=mask_tckn(person.tckn),
                first_name=person.first_name,
                last_name=person.last_name,
                birth_date_masked=mask_birth_date(person.birth_date),
                birth_place=person.birth_place,
                title=person.title,
                unit=person.unit,
                email=person.email,
                mobile=person.mobile,
            ),
            form=form_to_document(view.form),
            invitation=InvitationOut(
                state=view.invitation.state,
                expires_at=view.invitation.expires_at,
                locked_until=view.invitation.locked_until,
                times_issued=view.invitation.times_issued,
            ),
            signed_form=receipt_to_document(view.signed_form),
            batch_id=view.batch_id,
            rejection_reason=view.rejection_reason,
            certificate=certificate_to_document(view.certificate),
            shipment=shipment_to_document(view.shipment),
            kind=view.kind.value,
            renews_application_id=view.renews_application_id,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class FormSavedOut(ApplicationOut):
    """The application after a save, and whether that save reopened a finished form."""

    form_reopened: bool = Field(
        description="True when the form was completed (or rejected) and this save took it back to "
        "`form_in_progress`: it must be completed again, and the form printed before is out of date."
    )
    notice: str | None = Field(None, description="What `form_reopened` means, for people.")


class ApplicationPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ApplicationOut]


class StatusSummary(BaseModel):
    institution_id: uuid.UUID | None
    total: int
    by_status: dict[str, int] = Field(description="Every status, zero included.")
    form_not_filled: int = Field(description="Invited or still filling the form.")


class TransitionOut(BaseModel):
    from_status: str
    to_status: str
    actor_role: str
    actor_subject: str
    reason: str | None
    at: datetime


class ExpiryWarningOut(BaseModel):
    certificate_serial: str
    not_after: datetime
    days_before: int = Field(description="The step of the reminder schedule, e.g. 40.")
    warned_at: datetime


class SignInIn(BaseModel):
    model_config = _strict
    token: str = Field(min_length=10, max_length=200, description="From the invitation link's `#token=` fragment.")
    password: str = Field(min_length=1, max_length=200, description="The access password from the invitation e-mail.")


class SignInOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    application_id: uuid.UUID


class SecurityWordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The domain's rule is the only check, so the limit and its message are the domain's; the
    # schema states the same rule for clients (surrounding spaces are trimmed).
    security_word: str = Field(
        description="4 to 32 letters or digits, no spaces or punctuation.",
        json_schema_extra={"pattern": rf"^\s*{SECURITY_WORD_PATTERN}\s*$"},
    )

    @field_validator("security_word")
    @classmethod
    def _domain_rule(cls, v: str) -> str:
        try:
            validate_security_word(v)
        except FieldInvalid as exc:
            raise PydanticCustomError(exc.code, exc.message) from None
        return v


class SignedFormIn(BaseModel):
    model_config = _strict
    channel: SignedFormChannel = Field(
        description="paper: handed in; email_pdf: PDF e-mailed; cargo_or_post: no cover letter needed"
    )
    received_on: date
    reference: str | None = Field(
        None, max_length=200, description="Cargo tracking no., registry no. or e-mail subject."
    )

    @field_validator("received_on", mode="before")
    @classmethod
    def _iso_date_only(cls, value: object) -> object:
        # pydantic reads a number as seconds since 1970: 0 would be a paper received on 1970-01-01.
        if isinstance(value, int | float):
            raise ValueError("Give the date as YYYY-MM-DD.")
        return value


class ReasonIn(BaseModel):
    model_config = _strict
    reason: str = Field(min_length=5, max_length=1000)


class ProductionIn(BaseModel):
    model_config = _strict
    certificate_serial: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Fa-f:]+$")
    not_before: Instant | None = Field(
        None,
        description="Start of validity (RFC 3339 with a time zone); before `not_after`. Required for a first "
        "application; a renewal defaults to the old certificate's end.",
    )
    not_after: Instant = Field(description="End of validity; after `not_before` (otherwise 422 `validity_order`).")
    card_type: str = Field("AKIS", min_length=2, max_length=40)
    public_key: str | None = Field(
        None,
        max_length=4000,
        description="The new certificate's public key (PEM or base64 DER SubjectPublicKeyInfo). A renewal "
        "is refused (`public_key_reused`) if it is the old certificate's key.",
    )


class BatchIn(BaseModel):
    model_config = _strict
    application_ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)
    note: str | None = Field(None, max_length=500)


class BatchOut(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    created_by: str
    note: str | None
    created_at: datetime
    size: int


class ManifestEntry(BaseModel):
    application_id: uuid.UUID
    status: str
    tckn_masked: str
    first_name: str
    last_name: str
    signed_form: dict[str, Any] | None


class BatchManifest(BaseModel):
    batch: BatchOut
    entries: list[ManifestEntry]


# ---------------------------------------------------------------- renewal (docs/renewal.md)


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{field} must be base64") from None


class ChallengeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChallengeOut(BaseModel):
    challenge_id: uuid.UUID
    to_sign: str = Field(description="Base64 of SHA-256(origin) || SHA-256(nonce): the agent's `sign.data`, verbatim.")
    mechanisms: list[str]
    expires_at: datetime


class CardSignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenge_id: uuid.UUID
    certificate: str = Field(max_length=20_000, description="Base64 DER, from the agent's `get_certificates`.")
    signature: str = Field(max_length=2_000, description="Base64, from the agent's `sign`.")
    mechanism: Mechanism = Field(examples=["RSA_PKCS1_SHA256"])

    @field_validator("certificate", "signature")
    @classmethod
    def _base64(cls, v: str, info) -> str:
        _b64(v, info.field_name)
        return v


class HolderSessionOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    renewal_id: uuid.UUID


class AddressOut(BaseModel):
    line1: str
    line2: str | None = None
    district: str
    city: str
    postal_code: str


class OldCertificateOut(BaseModel):
    serial: str
    not_after: datetime


class RenewalOut(BaseModel):
    id: uuid.UUID
    status: Status
    kind: str = "renewal"
    first_name: str
    last_name: str
    tckn_masked: str
    title: str | None
    institutional_email: str | None
    unit: str | None
    delivery_address: AddressOut | None
    mobile: str | None
    validity_years: int | None
    old_certificate: OldCertificateOut
    new_not_before: datetime = Field(description="The old certificate's end: when the new one becomes usable.")
    e_approved_at: datetime | None


class RenewalPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Any = None
    unit: Any = None
    delivery_address: Any = None
    mobile: Any = None
    validity_years: Any = None


class PreparationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate: str = Field(max_length=20_000, description="Base64 DER: the certificate you signed in with.")
    mechanism: Mechanism = Field(examples=["RSA_PKCS1_SHA256"])

    @field_validator("certificate")
    @classmethod
    def _base64(cls, v: str) -> str:
        _b64(v, "certificate")
        return v


class PreparationOut(BaseModel):
    preparation_id: uuid.UUID
    to_sign: str = Field(description="Base64 DER of the CMS signed attributes (SET OF): the agent's `sign.data`.")
    expires_at: datetime


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preparation_id: uuid.UUID
    signature: str = Field(max_length=2_000, description="Base64, from the agent's `sign`.")

    @field_validator("signature")
    @classmethod
    def _base64(cls, v: str) -> str:
        _b64(v, "signature")
        return v


class RenewalFormTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200, description="From the e-mail link's `#token=` fragment.")


class RenewalFormOut(BaseModel):
    renewal_id: uuid.UUID
    status: Status
    first_name: str
    last_name: str
    tckn_masked: str
    title: str | None
    unit: str | None
    institutional_email: str | None
    validity_years: int | None
    institution_name: str


class RenewalFormApprovedOut(BaseModel):
    status: Status


class RenewalListItem(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    status: Status
    first_name: str
    last_name: str
    tckn_masked: str
    email: str
    batch_id: uuid.UUID | None
    renews_application_id: uuid.UUID | None
    old_certificate: OldCertificateOut
    e_approved_at: datetime | None
    form_link_expires_at: datetime | None
    form_approved_at: datetime | None


class RenewalPage(BaseModel):
    items: list[RenewalListItem]
    total: int


class RenewalBatchIn(BaseModel):
    model_config = _strict
    renewal_ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)
    note: str | None = Field(None, max_length=500)


class ResendOut(BaseModel):
    link_expires_at: datetime


class EApprovalReport(BaseModel):
    signer_subject: str
    signer_serial: str
    chain: list[str]
    signed_at: datetime
    intact: bool
    trusted: bool
    covers_whole_file: bool
    key_usage_ok: bool
    pades_subfilter: str
    document_sha256: str

"""Renewal with e-approval (issue 11, docs/renewal.md): the card sign-in, the renewal request,
the PAdES e-approval, the officer's filing, the Renewal Form link, the operator's evidence.

Each handler takes a command and the unit of work, then keyword-only the caller, the clock and
the renewal policy. Certificate and PDF work is CPU-bound and runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from esign import sealing
from esign.auth import Principal, Role, mint_token
from esign.certificate_serial import serial_from_record
from esign.clock import Clock
from esign.events import RenewalEApproved, RenewalFiled, RenewalFormApproved
from esign.problems import Conflict, Invalid, NotFound
from services.applications.adapters import pades
from services.applications.adapters.repositories.people_columns import PersonRecord
from services.applications.adapters.trust import Mechanism, TrustStore, verify_card_signature
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.application import RENEWAL_DONE, Actor, Application, Kind, Status
from services.applications.domain.form import FieldError, PriorCertificateReason
from services.applications.domain.invitation import hash_token
from services.applications.domain.renewal import (
    CertificateRefused,
    Challenge,
    ChallengeInvalid,
    Preparation,
    PreparationInvalid,
    RenewalFormLinkInvalid,
    RenewalRecord,
    RenewalRefused,
    SignatureInvalid,
    ensure_in_window,
    renewal_patch,
)
from services.applications.domain.tckn import mask_tckn
from services.applications.handlers.access import (
    ensure_application_visible,
    ensure_institution_visible,
    own_application_id,
)
from services.applications.handlers.applicant import actor_of, load_visible
from services.applications.handlers.batching import load_batch_candidates

RENEWAL_TOKEN_ISSUER = "esign-applications"  # the same key as applicant sessions
SUPPORTED_MECHANISMS = [m.value for m in Mechanism]


@dataclass(frozen=True)
class RenewalPolicy:
    origin: str
    trust: TrustStore
    window: timedelta
    challenge_ttl: timedelta
    session_ttl: timedelta
    token_secret: str
    form_ttl: timedelta
    form_url: str
    notifications_public_key: str
    font_dir: Path | None = None
    tsa_url: str | None = None
    draft_ttl: timedelta = timedelta(days=7)
    form_grace: timedelta = timedelta(days=30)


def fingerprint(certificate_der: bytes) -> str:
    return hashlib.sha256(certificate_der).hexdigest()


def _load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise Invalid("The certificate is not a DER X.509 certificate.") from None


def _subject_serial_number(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)
    return str(values[0].value) if values else None


# ---------------------------------------------------------------- sign-in with the card


@dataclass(frozen=True)
class CreateChallenge:
    origin: str | None


@dataclass(frozen=True)
class IssuedChallenge:
    challenge_id: uuid.UUID
    to_sign: bytes
    expires_at: datetime


async def create_challenge(
    command: CreateChallenge, uow: ApplicationsUnitOfWork, *, clock: Clock, policy: RenewalPolicy
) -> IssuedChallenge:
    if command.origin != policy.origin:
        # A page on another origin could relay our nonce to a victim's card (Web eID's origin rule).
        raise RenewalRefused(
            "This request does not come from the renewal page's origin.", code="origin_mismatch", status=403
        )
    now = clock.now()
    await uow.renewals.purge_expired(now - policy.challenge_ttl)
    challenge = Challenge.issue(
        secrets.token_bytes(32), origin=policy.origin, now=now, ttl=policy.challenge_ttl
    )  # the nonce itself is dropped here: only its hash is kept, and that is all the check needs
    await uow.renewals.add_challenge(challenge)
    return IssuedChallenge(challenge.id, challenge.to_sign(), challenge.expires_at)


@dataclass(frozen=True)
class SignInWithCard:
    challenge_id: uuid.UUID
    certificate_der: bytes
    signature: bytes
    mechanism: Mechanism


@dataclass(frozen=True)
class HolderSession:
    access_token: str
    expires_in: int
    renewal_id: uuid.UUID


async def _holder_of(uow: ApplicationsUnitOfWork, cert: x509.Certificate, tckn_on_card: str | None) -> Application:
    """The produced application this certificate was issued for: its serial on record, for the
    person whose TC Kimlik No the certificate names."""
    candidates = [
        app
        for app in await uow.applications.produced_with_serial(format(cert.serial_number, "X"))
        if app.status in RENEWAL_DONE
    ]
    if not candidates:
        raise CertificateRefused("certificate_unknown", "This certificate was not issued through the platform.")
    for app in candidates:
        person = await uow.people.get(app.person_id)
        if person is not None and person.tckn == tckn_on_card:
            return app
    raise CertificateRefused(
        "certificate_subject_mismatch", "The certificate names another person than the one on record."
    )


async def sign_in_with_card(
    command: SignInWithCard, uow: ApplicationsUnitOfWork, *, clock: Clock, policy: RenewalPolicy
) -> HolderSession:
    now = clock.now()
    challenge = await uow.renewals.challenge(command.challenge_id)
    if challenge is None:
        raise ChallengeInvalid("The challenge is unknown, used or expired; start again.")
    challenge.consume(now)
    # Spent whatever happens next: committed now, so a refused attempt cannot be replayed.
    await uow.renewals.save_challenge(challenge)
    await uow.commit()

    cert = _load_certificate(command.certificate_der)
    verify_card_signature(cert, command.mechanism, challenge.to_sign(), command.signature)
    await asyncio.to_thread(policy.trust.check, command.certificate_der, now)
    old = await _holder_of(uow, cert, _subject_serial_number(cert))
    ensure_in_window(cert.not_valid_after_utc, now=now, window=policy.window)
    state = await uow.renewals.state_of_certificate(old.id)
    if state.renewed:
        raise RenewalRefused("This certificate has already been renewed.", code="certificate_already_renewed")
    if state.open_renewal_id is not None:
        renewal_id = state.open_renewal_id  # resume: one open renewal per certificate
    else:
        renewal_id = uuid.uuid4()
        await _start_renewal(
            uow, old, cert=cert, certificate_der=command.certificate_der, renewal_id=renewal_id, now=now
        )
    token = mint_token(
        policy.token_secret,
        subject=f"renewal:{renewal_id}",
        role=Role.RENEWAL_HOLDER,
        application_id=renewal_id,
        ttl=policy.session_ttl,
        issuer=RENEWAL_TOKEN_ISSUER,
    )
    return HolderSession(token, int(policy.session_ttl.total_seconds()), renewal_id)


async def _start_renewal(
    uow: ApplicationsUnitOfWork,
    old: Application,
    *,
    cert: x509.Certificate,
    certificate_der: bytes,
    renewal_id: uuid.UUID,
    now: datetime,
) -> None:
    person = await uow.people.person(old.person_id)
    form = dataclasses.replace(
        old.form,
        title=old.form.title or person.title,
        unit=old.form.unit or person.unit,
        institutional_email=old.form.institutional_email or person.email,
        mobile=old.form.mobile or person.mobile,
        prior_certificate_reason=PriorCertificateReason.RENEWAL,
    )
    actor = Actor(Role.RENEWAL_HOLDER.value, f"certificate:{fingerprint(certificate_der)[:16]}")
    app = Application.start_renewal(renewed=old, form=form, actor=actor, at=now, application_id=renewal_id)
    await uow.applications.add(app)
    assert old.certificate is not None  # it was produced: _holder_of found it by its serial
    await uow.renewals.add(
        RenewalRecord(
            application_id=renewal_id,
            renewed_application_id=old.id,
            certificate_der=certificate_der,
            certificate_fingerprint=fingerprint(certificate_der),
            old_serial=old.certificate.serial,
            old_not_after=cert.not_valid_after_utc,
        )
    )


# ---------------------------------------------------------------- the holder's renewal request


@dataclass(frozen=True)
class RenewalView:
    application: Application
    record: RenewalRecord
    person: PersonRecord
    institution_name: str

    @property
    def email(self) -> str:
        return self.application.form.institutional_email or self.person.email

    @property
    def mobile(self) -> str:
        return self.application.form.mobile or self.person.mobile


async def _view_of(uow: ApplicationsUnitOfWork, app: Application, record: RenewalRecord) -> RenewalView:
    person = await uow.people.person(app.person_id)
    return RenewalView(app, record, person, await uow.institutions.name_of(app.institution_id))


async def load_renewal(
    uow: ApplicationsUnitOfWork, renewal_id: uuid.UUID, *, principal: Principal, for_update: bool = False
) -> Application:
    """The renewal application if this caller may see it: the holder their own, staff as for any
    application. Anything else, a first application's id included, is ``NotFound("renewal")``."""
    app = await uow.applications.get(renewal_id, for_update=for_update)
    if app is None or app.kind is not Kind.RENEWAL:
        raise NotFound("renewal")
    try:
        ensure_application_visible(principal, app.institution_id, app.id)
    except NotFound:
        raise NotFound("renewal") from None
    return app


async def renewal_view(renewal_id: uuid.UUID, uow: ApplicationsUnitOfWork, *, principal: Principal) -> RenewalView:
    app = await load_renewal(uow, renewal_id, principal=principal)
    return await _view_of(uow, app, await uow.renewals.of(renewal_id))


@dataclass(frozen=True)
class EditRenewalRequest:
    patch: Mapping[str, object]


async def edit_renewal_request(
    command: EditRenewalRequest, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> None:
    app = await load_visible(uow, own_application_id(principal), principal=principal, for_update=True)
    app.edit_renewal_request(renewal_patch(app.form, dict(command.patch)))
    await uow.applications.save(app)


# ---------------------------------------------------------------- e-approval (PAdES)


@dataclass(frozen=True)
class PrepareApproval:
    certificate_der: bytes
    mechanism: Mechanism


@dataclass(frozen=True)
class PreparedApproval:
    preparation_id: uuid.UUID
    to_sign: bytes
    expires_at: datetime


async def _draft_renewal(uow: ApplicationsUnitOfWork, principal: Principal) -> tuple[Application, RenewalRecord]:
    app = await load_visible(uow, own_application_id(principal), principal=principal, for_update=True)
    if app.status is not Status.DRAFT:
        raise Conflict("renewal_not_editable", f"The renewal is {app.status.value}; it was approved already.")
    return app, await uow.renewals.of(app.id, for_update=True)


async def prepare_approval(
    command: PrepareApproval, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock, policy: RenewalPolicy
) -> PreparedApproval:
    now = clock.now()
    app, record = await _draft_renewal(uow, principal)
    if fingerprint(command.certificate_der) != record.certificate_fingerprint:
        raise CertificateRefused("certificate_mismatch", "Approve with the certificate you signed in with.")
    # Checked again: the certificate may have been revoked since the sign-in.
    await asyncio.to_thread(policy.trust.check, command.certificate_der, now)
    view = await _view_of(uow, app, record)
    person, form = view.person, app.form
    if form.delivery_address is None:
        # Copied from the produced application, which had one; a broken invariant ships no card nowhere.
        raise Conflict("no_delivery_address", "The renewal request has no delivery address.")
    request = pades.RenewalRequest(
        renewal_id=str(app.id),
        institution_name=view.institution_name,
        first_name=person.first_name,
        last_name=person.last_name,
        tckn_masked=mask_tckn(person.tckn),
        title=form.title or "",
        unit=form.unit or "",
        institutional_email=view.email,
        mobile=view.mobile,
        delivery_address=form.delivery_address,
        validity_years=int(form.validity_years or 3),
        old_serial=record.old_serial,
        old_not_after=record.old_not_after.date(),
        new_not_before=record.old_not_after.date(),
        # Binds the signed document to this renewal and this moment (Web eID: one nonce per operation).
        approval_nonce=secrets.token_hex(32),
    )
    prepared = await asyncio.to_thread(_prepare_sync, request, command, policy)
    preparation = Preparation(
        id=uuid.uuid4(),
        renewal_id=app.id,
        certificate_fingerprint=record.certificate_fingerprint,
        mechanism=command.mechanism.value,
        signed_attributes=prepared.signed_attributes,
        state={
            "document_digest": prepared.document_digest.hex(),
            "reserved_start": prepared.reserved_start,
            "reserved_end": prepared.reserved_end,
        },
        pdf=prepared.pdf,
        expires_at=now + policy.challenge_ttl,
    )
    await uow.renewals.purge_expired(now - policy.challenge_ttl)
    await uow.renewals.add_preparation(preparation)
    return PreparedApproval(preparation.id, prepared.signed_attributes, preparation.expires_at)


def _prepare_sync(request: pades.RenewalRequest, command: PrepareApproval, policy: RenewalPolicy) -> pades.Prepared:
    pdf = pades.render_renewal_request(request, policy.font_dir)
    return pades.run(
        pades.prepare(
            pdf,
            certificate_der=command.certificate_der,
            chain=list(policy.trust.intermediates),
            mechanism=command.mechanism,
            with_timestamp=policy.tsa_url is not None,
        )
    )


@dataclass(frozen=True)
class FinishApproval:
    preparation_id: uuid.UUID
    signature: bytes


async def finish_approval(
    command: FinishApproval, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock, policy: RenewalPolicy
) -> None:
    now = clock.now()
    preparation = await uow.renewals.preparation(command.preparation_id)
    if preparation is None:
        raise PreparationInvalid("The prepared signature is unknown, used or expired; prepare again.")
    preparation.consume(own_application_id(principal), now)
    await uow.renewals.save_preparation(preparation)
    await uow.commit()  # single use, even when the signature below is refused

    app, record = await _draft_renewal(uow, principal)
    try:
        signed_pdf, report = await asyncio.to_thread(
            _finish_sync, preparation, record=record, policy=policy, signature=command.signature, now=now
        )
    except SignatureInvalid as exc:
        exc.status = 422  # the holder is signed in; the signature is what is wrong
        raise
    record.signed_pdf = signed_pdf
    record.validation_report = report
    record.e_approved_at = now
    await uow.renewals.save(record)
    app.e_approve(actor_of(principal), now)
    await uow.applications.save(app)
    view = await _view_of(uow, app, record)
    uow.emit(
        RenewalEApproved(
            application_id=app.id,
            renewed_application_id=record.renewed_application_id,
            holder_id=app.person_id,
            institution_id=app.institution_id,
            certificate_serial=record.old_serial,
            first_name=view.person.first_name,
            last_name=view.person.last_name,
            email=view.email,
            mobile=view.mobile,
        )
    )


def _finish_sync(
    preparation: Preparation, *, record: RenewalRecord, policy: RenewalPolicy, signature: bytes, now: datetime
) -> tuple[bytes, dict]:
    prepared = pades.Prepared(
        pdf=preparation.pdf,
        signed_attributes=preparation.signed_attributes,
        document_digest=bytes.fromhex(preparation.state["document_digest"]),
        reserved_start=preparation.state["reserved_start"],
        reserved_end=preparation.state["reserved_end"],
    )

    async def finish_and_validate() -> tuple[bytes, dict]:
        signed = await pades.finish(
            prepared,
            certificate_der=record.certificate_der,
            chain=list(policy.trust.intermediates),
            mechanism=Mechanism(preparation.mechanism),
            signature=signature,
            tsa_url=policy.tsa_url,
        )
        return signed, await pades.validate(signed, policy.trust, at=now)

    return pades.run(finish_and_validate())


# ---------------------------------------------------------------- officer: file, re-send


@dataclass(frozen=True)
class FileRenewals:
    institution_id: uuid.UUID
    renewal_ids: Sequence[uuid.UUID]
    note: str | None = None


@dataclass(frozen=True)
class NewFormLink:
    sealed_secret: str  # the token and link, sealed for the notifications service
    expires_at: datetime


def _new_form_link(record: RenewalRecord, policy: RenewalPolicy, now: datetime) -> NewFormLink:
    """A new Renewal Form link: its token hashed on the record, the plaintext only sealed."""
    token = secrets.token_urlsafe(32)
    expires_at = now + policy.form_ttl
    record.form_token_hash = hash_token(token)
    record.form_link_expires_at = expires_at
    sealed = sealing.seal(
        policy.notifications_public_key,
        {"token": token, "link": f"{policy.form_url}#token={token}"},  # fragment: never sent to a server
    )
    return NewFormLink(sealed, expires_at)


async def _emit_filed(
    uow: ApplicationsUnitOfWork,
    app: Application,
    *,
    record: RenewalRecord,
    link: NewFormLink,
    policy: RenewalPolicy,
    resend: bool,
) -> None:
    view = await _view_of(uow, app, record)
    uow.emit(
        RenewalFiled(
            application_id=app.id,
            holder_id=app.person_id,
            institution_id=app.institution_id,
            institution_name=view.institution_name,
            first_name=view.person.first_name,
            last_name=view.person.last_name,
            email=view.email,
            sealed_form_secret=link.sealed_secret,
            form_url_base=policy.form_url,
            link_expires_at=link.expires_at,
            resend=resend,
        )
    )


async def file_renewals(
    command: FileRenewals, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock, policy: RenewalPolicy
) -> uuid.UUID:
    ensure_institution_visible(principal, command.institution_id)
    found = await load_batch_candidates(
        uow,
        institution_id=command.institution_id,
        ids=command.renewal_ids,
        field="renewal_ids",
        what="renewal",
        kind=Kind.RENEWAL,
    )
    not_ready = [a for a in found if a.status is not Status.E_APPROVED]
    if not_ready:
        raise Conflict(
            "not_ready_to_file",
            "Only e-approved renewals can be filed.",
            not_ready=[{"renewal_id": str(a.id), "status": a.status.value} for a in not_ready],
        )
    now = clock.now()
    batch_id = uuid.uuid4()
    await uow.batches.add(
        batch_id, institution_id=command.institution_id, created_by=principal.subject, note=command.note
    )
    for app in found:
        app.file_renewal(batch_id, actor_of(principal), now)
        await uow.applications.save(app)
        record = await uow.renewals.of(app.id, for_update=True)
        link = _new_form_link(record, policy, now)
        await uow.renewals.save(record)
        await _emit_filed(uow, app, record=record, link=link, policy=policy, resend=False)
    return batch_id


@dataclass(frozen=True)
class ResendRenewalForm:
    renewal_id: uuid.UUID


async def resend_renewal_form(
    command: ResendRenewalForm,
    uow: ApplicationsUnitOfWork,
    *,
    principal: Principal,
    clock: Clock,
    policy: RenewalPolicy,
) -> datetime:
    app = await load_renewal(uow, command.renewal_id, principal=principal, for_update=True)
    if app.status is not Status.FILED:
        raise Conflict("renewal_form_not_pending", f"The renewal is {app.status.value}; no Renewal Form is pending.")
    record = await uow.renewals.of(app.id, for_update=True)
    link = _new_form_link(record, policy, clock.now())  # the previous link's hash is overwritten: it is dead
    await uow.renewals.save(record)
    await _emit_filed(uow, app, record=record, link=link, policy=policy, resend=True)
    return link.expires_at


# ---------------------------------------------------------------- the Renewal Form link


@dataclass(frozen=True)
class RenewalFormToken:
    token: str


async def _form_renewal(
    command: RenewalFormToken, uow: ApplicationsUnitOfWork, now: datetime
) -> tuple[Application, RenewalRecord]:
    token_hash = hash_token(command.token)
    record = await uow.renewals.by_form_token_hash(token_hash)
    if record is None:
        raise RenewalFormLinkInvalid("This Renewal Form link is not valid (a newer one may have been sent).")
    record.open_form_link(token_hash, now)
    app = await uow.applications.get(record.application_id, for_update=True)
    if app is None or app.status is not Status.FILED:  # withdrawn or expired meanwhile: the link is dead
        raise RenewalFormLinkInvalid("This Renewal Form link is not valid any more.")
    return app, record


async def view_renewal_form(command: RenewalFormToken, uow: ApplicationsUnitOfWork, *, clock: Clock) -> RenewalView:
    app, record = await _form_renewal(command, uow, clock.now())
    return await _view_of(uow, app, record)


async def approve_renewal_form(command: RenewalFormToken, uow: ApplicationsUnitOfWork, *, clock: Clock) -> Application:
    now = clock.now()
    app, record = await _form_renewal(command, uow, now)
    app.approve_renewal_form(Actor("renewal_holder", f"renewal-form:{app.id}"), now)
    await uow.applications.save(app)
    record.form_approved_at = now
    record.form_token_hash = None  # single use
    await uow.renewals.save(record)
    view = await _view_of(uow, app, record)
    uow.emit(
        RenewalFormApproved(
            application_id=app.id,
            holder_id=app.person_id,
            institution_id=app.institution_id,
            institution_name=view.institution_name,
            first_name=view.person.first_name,
            last_name=view.person.last_name,
            email=view.email,
            approved_at=now,
        )
    )
    return app


# ---------------------------------------------------------------- expiry (background worker)


async def expire_stale_renewals(
    uow: ApplicationsUnitOfWork, *, clock: Clock, policy: RenewalPolicy, limit: int = 100
) -> int:
    """Drafts never e-approved, and filed renewals whose Renewal Form link ran out long ago and
    was not re-sent, become `expired`: the certificate is free for a new renewal."""
    now = clock.now()
    ids = await uow.renewals.claim_stale(
        drafts_before=now - policy.draft_ttl, links_expired_before=now - policy.form_grace, limit=limit
    )
    for application_id in ids:
        app = await uow.applications.get(application_id, for_update=True)
        if app is None:  # claimed and locked above: cannot have gone
            continue
        reason = "not e-approved in time" if app.status is Status.DRAFT else "Renewal Form not approved in time"
        app.expire_renewal(reason, now)
        await uow.applications.save(app)
    return len(ids)


# ---------------------------------------------------------------- operator: evidence, production rules


@dataclass(frozen=True)
class EApproval:
    """A renewal's e-approval: the PAdES-signed request and the report of its validation."""

    signed_pdf: bytes
    validation_report: dict[str, object]


async def e_approval(application_id: uuid.UUID, uow: ApplicationsUnitOfWork, *, principal: Principal) -> EApproval:
    app = await load_visible(uow, application_id, principal=principal)
    record = await uow.renewals.get(app.id) if app.kind is Kind.RENEWAL else None
    if record is None or record.signed_pdf is None or record.validation_report is None:
        raise NotFound("e-approval")
    return EApproval(record.signed_pdf, record.validation_report)


def public_key_der(raw: str) -> bytes:
    """A SubjectPublicKeyInfo given as PEM or base64 DER, normalised to DER."""
    text = raw.strip()
    try:
        key = (
            serialization.load_pem_public_key(text.encode())
            if text.startswith("-----")
            else serialization.load_der_public_key(base64.b64decode(text, validate=True))
        )
    except ValueError:
        raise Invalid("The public key cannot be read.", [_field("public_key", "public_key_invalid")]) from None
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _field(name: str, code: str) -> FieldError:
    return FieldError(name, code, "See the detail.")


async def renewal_production_rules(
    app: Application, uow: ApplicationsUnitOfWork, *, serial: str, not_before: datetime | None, public_key: str | None
) -> datetime:
    """For a renewal: a new serial, a new key, and (by default) usable when the old one ends.
    Returns the not_before to record."""
    record = await uow.renewals.of(app.id)
    if serial_from_record(serial) == serial_from_record(record.old_serial):
        raise RenewalRefused(
            "A renewal has a new serial number; this is the old certificate's.", code="serial_reused", status=422
        )
    if public_key is not None:
        old_key = (
            x509.load_der_x509_certificate(record.certificate_der)
            .public_key()
            .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        if public_key_der(public_key) == old_key:
            raise RenewalRefused(
                "A renewal has a new key pair; this is the old certificate's key.", code="public_key_reused", status=422
            )
    return not_before or record.old_not_after

"""The officer's and the CA operator's steps: the signed paper received, batches forwarded to
the CA, rejection, production, withdrawal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from esign.auth import Principal
from esign.clock import Clock
from esign.events import (
    Address,
    ApplicationForwarded,
    ApplicationRejected,
    CertificateProduced,
    SignedFormReceived,
)
from esign.problems import Conflict, Invalid, NotFound
from services.applications.adapters.repositories.batches import BatchMember, BatchRecord
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.application import (
    Application,
    Certificate,
    Kind,
    SignedFormChannel,
    SignedFormReceipt,
    Status,
)
from services.applications.domain.form import FieldError
from services.applications.handlers.access import ensure_institution_visible
from services.applications.handlers.applicant import actor_of, load_visible
from services.applications.handlers.batching import load_batch_candidates
from services.applications.handlers.renewal import renewal_production_rules


@dataclass(frozen=True)
class RecordSignedForm:
    application_id: uuid.UUID
    channel: SignedFormChannel
    received_on: date
    reference: str | None


async def record_signed_form(
    cmd: RecordSignedForm, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> Application:
    # The officer's date is an Istanbul calendar day; so is "today" (never the host's date).
    if cmd.received_on > clock.today():
        raise Invalid(
            "The date is in the future.",
            [FieldError("received_on", "date_in_future", "The form cannot arrive in the future.")],
        )
    app = await load_visible(uow, cmd.application_id, principal=principal, for_update=True)
    receipt = SignedFormReceipt(cmd.channel, cmd.received_on, cmd.reference, principal.subject)
    app.record_signed_form(receipt, actor_of(principal), clock.now())
    await uow.applications.save(app)
    uow.emit(
        SignedFormReceived(
            application_id=app.id,
            institution_id=app.institution_id,
            channel=cmd.channel.value,
            received_on=cmd.received_on,
        )
    )
    return app


@dataclass(frozen=True)
class ForwardBatch:
    institution_id: uuid.UUID
    application_ids: Sequence[uuid.UUID]
    note: str | None


async def forward_batch(
    cmd: ForwardBatch, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> uuid.UUID:
    ensure_institution_visible(principal, cmd.institution_id)
    found = await load_batch_candidates(
        uow, institution_id=cmd.institution_id, ids=cmd.application_ids, field="application_ids", what="application"
    )
    not_ready = [a for a in found if a.status is not Status.SIGNED_FORM_RECEIVED]
    if not_ready:
        raise Conflict(
            "not_ready_to_forward",
            "Only applications whose signed form was received can be forwarded.",
            not_ready=[{"application_id": str(a.id), "status": a.status.value} for a in not_ready],
        )
    batch_id = uuid.uuid4()
    await uow.batches.add(batch_id, institution_id=cmd.institution_id, created_by=principal.subject, note=cmd.note)
    now = clock.now()
    contacts = await uow.applications.contacts([a.id for a in found])
    for app in found:
        app.forward(batch_id, actor_of(principal), now)
        await uow.applications.save(app)
        v = contacts[app.id]
        uow.emit(
            ApplicationForwarded(
                application_id=app.id,
                institution_id=app.institution_id,
                batch_id=batch_id,
                email=app.form.institutional_email or v.email,
                first_name=v.first_name,
                last_name=v.last_name,
            )
        )
    return batch_id


@dataclass(frozen=True)
class RejectApplication:
    application_id: uuid.UUID
    reason: str


async def reject(
    cmd: RejectApplication, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> Application:
    app = await load_visible(uow, cmd.application_id, principal=principal, for_update=True)
    app.reject(cmd.reason, actor_of(principal), clock.now())
    await uow.applications.save(app)
    v = await uow.applications.contact(app.id)
    uow.emit(
        ApplicationRejected(
            application_id=app.id,
            institution_id=app.institution_id,
            reason=cmd.reason,
            email=app.form.institutional_email or v.email,
            mobile=app.form.mobile or v.mobile,
            first_name=v.first_name,
            last_name=v.last_name,
        )
    )
    return app


@dataclass(frozen=True)
class RecordProduction:
    application_id: uuid.UUID
    certificate_serial: str
    not_before: datetime | None  # a renewal: defaults to the old certificate's end
    not_after: datetime
    card_type: str
    public_key: str | None = None  # a renewal: must differ from the old certificate's key


async def record_production(
    cmd: RecordProduction, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> Application:
    # docs/problems.md's order: what is wrong with the request itself (422) before the application
    # is even looked at; then what needs the application (its kind), then its state (409).
    if cmd.not_before is not None:
        Certificate(cmd.certificate_serial, cmd.not_before, cmd.not_after, cmd.card_type).check()
    app = await load_visible(uow, cmd.application_id, principal=principal, for_update=True)
    renews_serial = None
    if app.kind is Kind.RENEWAL:
        not_before = await renewal_production_rules(
            app, uow, serial=cmd.certificate_serial, not_before=cmd.not_before, public_key=cmd.public_key
        )
        renews_serial = (await uow.renewals.of(app.id)).old_serial
    elif cmd.not_before is None:
        raise Invalid(
            "The start of validity is missing.",
            [FieldError("not_before", "missing", "Give the start of the certificate's validity.")],
        )
    else:
        not_before = cmd.not_before
    certificate = Certificate(cmd.certificate_serial, not_before, cmd.not_after, cmd.card_type)
    if app.can_move_to(Status.PRODUCED) and app.form.delivery_address is None:
        # Completeness guarantees an address; a broken invariant must not ship a card nowhere.
        raise Conflict("no_delivery_address", "The application has no delivery address.")
    app.record_production(certificate, actor_of(principal), clock.now())
    addr = app.form.delivery_address
    assert addr is not None  # checked above, before the move
    await uow.applications.save(app)
    v = await uow.applications.contact(app.id)
    uow.emit(
        CertificateProduced(
            application_id=app.id,
            institution_id=app.institution_id,
            holder_id=app.person_id,
            first_name=v.first_name,
            last_name=v.last_name,
            email=app.form.institutional_email or v.email,
            mobile=app.form.mobile or v.mobile,
            delivery_address=Address(
                line1=addr.line1, line2=addr.line2, district=addr.district, city=addr.city, postal_code=addr.postal_code
            ),
            card_reader_type=app.form.card_reader_type.value if app.form.card_reader_type else "none",
            certificate_serial=cmd.certificate_serial,
            card_type=cmd.card_type,
            not_before=not_before,
            not_after=cmd.not_after,
            kind=app.kind.value,
            renews_serial=renews_serial,
        )
    )
    return app


@dataclass(frozen=True)
class WithdrawApplication:
    application_id: uuid.UUID
    reason: str


async def withdraw(
    cmd: WithdrawApplication, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> Application:
    app = await load_visible(uow, cmd.application_id, principal=principal, for_update=True)
    app.withdraw(cmd.reason, actor_of(principal), clock.now())
    await uow.applications.save(app)
    return app


@dataclass(frozen=True)
class BatchManifest:
    batch: BatchRecord
    members: Sequence[BatchMember]


async def batch_manifest(batch_id: uuid.UUID, uow: ApplicationsUnitOfWork, *, principal: Principal) -> BatchManifest:
    batch = await uow.batches.get(batch_id)
    if batch is None or not principal.can_see_institution(batch.institution_id):
        raise NotFound("batch")
    return BatchManifest(batch, await uow.batches.members(batch_id))

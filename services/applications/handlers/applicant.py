"""The applicant's form: draft edits, the security word, completion, the printable PDF."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from esign.auth import Principal
from esign.clock import Clock
from esign.events import FormCompleted, RenewalRecorded
from esign.problems import Conflict, Invalid, NotFound
from services.applications.adapters.form_pdf import PrintableForm, render_application_form
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.application import Actor, Application, Status
from services.applications.domain.contact import FieldInvalid
from services.applications.domain.form import FieldError, PriorCertificateReason, validate_security_word
from services.applications.domain.invitation import PasswordHasher
from services.applications.domain.tckn import TCKimlikNo
from services.applications.handlers.access import ensure_application_visible


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.role.value, principal.subject)


async def load_visible(
    uow: ApplicationsUnitOfWork, application_id: uuid.UUID, *, principal: Principal, for_update: bool = False
) -> Application:
    """The application if this caller may see it; otherwise ``NotFound``, exactly like a missing one."""
    app = await uow.applications.get(application_id, for_update=for_update)
    if app is None:
        raise NotFound("application")
    ensure_application_visible(principal, app.institution_id, app.id)
    return app


@dataclass(frozen=True)
class FormSaved:
    application: Application
    reopened: bool  # a finished form went back to in-progress: complete and print it again


@dataclass(frozen=True)
class SaveDraft:
    application_id: uuid.UUID
    patch: Mapping[str, object]


async def save_draft(
    command: SaveDraft, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> FormSaved:
    app = await load_visible(uow, command.application_id, principal=principal, for_update=True)
    reopened = app.save_draft(command.patch, actor_of(principal), clock.now())
    await uow.applications.save(app)
    return FormSaved(app, reopened)


@dataclass(frozen=True)
class SetSecurityWord:
    application_id: uuid.UUID
    word: str


async def set_security_word(
    command: SetSecurityWord,
    uow: ApplicationsUnitOfWork,
    *,
    principal: Principal,
    clock: Clock,
    hasher: PasswordHasher,
) -> FormSaved:
    try:
        cleaned = validate_security_word(command.word)
    except FieldInvalid as exc:
        raise Invalid("The security word is not valid.", [FieldError("security_word", exc.code, exc.message)]) from None
    app = await load_visible(uow, command.application_id, principal=principal, for_update=True)
    word_hash = await asyncio.to_thread(hasher.hash, cleaned)
    reopened = app.set_security_word(word_hash, actor_of(principal), clock.now())
    await uow.applications.save(app)
    return FormSaved(app, reopened)


@dataclass(frozen=True)
class CompleteForm:
    application_id: uuid.UUID


async def complete_form(
    command: CompleteForm, uow: ApplicationsUnitOfWork, *, principal: Principal, clock: Clock
) -> Application:
    app = await load_visible(uow, command.application_id, principal=principal, for_update=True)
    now = clock.now()
    app.complete_form(actor_of(principal), now)
    await uow.applications.save(app)
    person = await uow.people.person(app.person_id)
    uow.emit(
        FormCompleted(
            application_id=app.id,
            institution_id=app.institution_id,
            first_name=person.first_name,
            last_name=person.last_name,
            email=app.form.institutional_email or person.email,
        )
    )
    if app.form.prior_certificate_reason is PriorCertificateReason.RENEWAL:
        # The holder is renewing: the notifications service stops the old certificate's reminders.
        uow.emit(
            RenewalRecorded(
                application_id=app.id, institution_id=app.institution_id, holder_id=app.person_id, recorded_at=now
            )
        )
    return app


async def printable_form(
    application_id: uuid.UUID, uow: ApplicationsUnitOfWork, *, principal: Principal, font_dir: Path | None
) -> bytes:
    app = await load_visible(uow, application_id, principal=principal)
    if app.status in {Status.INVITED, Status.FORM_IN_PROGRESS, Status.REJECTED, Status.WITHDRAWN}:
        raise Conflict("form_not_completed", "The form can be printed once it is completed.")
    person = await uow.people.person(app.person_id)
    data = PrintableForm(
        reference=str(app.id),
        institution_name=await uow.institutions.name_of(app.institution_id),
        tckn=TCKimlikNo.parse(person.tckn),
        first_name=person.first_name,
        last_name=person.last_name,
        birth_date=person.birth_date,
        birth_place=person.birth_place,
        form=app.form,
    )
    return await asyncio.to_thread(render_application_form, data, font_dir)

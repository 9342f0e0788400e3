"""Remembering the expiry warnings the notifications service sent, so officers and operators see
on the application that (and when) its holder was told."""

from __future__ import annotations

from esign.consumer import PermanentFailure
from esign.events import EventMeta, ExpiryWarned
from services.applications.adapters.repositories.applications import ExpiryWarningRecord
from services.applications.adapters.uow import ApplicationsUnitOfWork


async def on_expiry_warned(event: ExpiryWarned, uow: ApplicationsUnitOfWork, *, meta: EventMeta) -> None:
    if await uow.applications.get(event.application_id) is None:
        raise PermanentFailure(f"no application {event.application_id}")
    # Keyed by the event id: a replayed dead letter records nothing twice.
    await uow.applications.record_expiry_warning(
        ExpiryWarningRecord(
            event_id=meta.id,
            application_id=event.application_id,
            certificate_serial=event.certificate_serial,
            not_after=event.not_after,
            days_before=event.days_before,
            warned_at=event.warned_at,
        )
    )

"""Domain events -> published contract events (written to the outbox by the unit of work)."""

from __future__ import annotations

from collections.abc import Iterable

from esign.events import ApplicationStatusChanged, EventData
from esign.uow import UnmappedEvent
from services.applications.domain.application import Transition


def map_domain_event(event: object) -> Iterable[EventData]:
    if not isinstance(event, Transition):
        raise UnmappedEvent(f"{type(event).__name__}: no contract event for it")
    yield ApplicationStatusChanged(
        application_id=event.application_id,
        institution_id=event.institution_id,
        from_status=event.from_status_name,
        to_status=event.to_status.value,
        reason=event.reason,
    )

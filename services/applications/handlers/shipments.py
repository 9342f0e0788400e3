"""Moving applications on with the courier, from the tracking service's events."""

from __future__ import annotations

from datetime import datetime, timezone

import structlog

from esign.consumer import PermanentFailure
from esign.events import (
    Envelope,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentHandedToCourier,
    ShipmentReturned,
)
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.application import IllegalTransition, Status

log = structlog.get_logger("applications.shipments")

TARGETS = {
    ShipmentHandedToCourier.type: Status.SHIPPED,
    ShipmentDelivered.type: Status.DELIVERED,
    ShipmentDeliveryFailed.type: Status.DELIVERY_FAILED,
    ShipmentReturned.type: Status.RETURNED,
}


async def on_shipment_event(uow: ApplicationsUnitOfWork, envelope: Envelope) -> None:
    event = envelope.parse_data()
    app = await uow.applications.get(event.application_id, for_update=True)
    if app is None:
        raise PermanentFailure(f"no application {event.application_id}")
    try:
        moved = app.apply_shipment_event(
            TARGETS[envelope.type],
            event.tracking_number,
            event.carrier,
            event.occurred_at,
            datetime.now(timezone.utc),
            getattr(event, "reason", None),
        )
    except IllegalTransition as exc:
        raise PermanentFailure(str(exc)) from exc
    if not moved:
        log.info("shipment_event_ignored", application_id=str(app.id), type=envelope.type, status=app.status.value)
        return
    await uow.applications.save(app)

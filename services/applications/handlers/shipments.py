"""Moving applications on with the courier, from the tracking service's events."""

from __future__ import annotations

import structlog

from esign.clock import Clock
from esign.consumer import PermanentFailure
from esign.events import (
    EventMeta,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentHandedToCourier,
    ShipmentReturned,
)
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.application import IllegalTransition, Status

log = structlog.get_logger("applications.shipments")

ShipmentProgress = ShipmentHandedToCourier | ShipmentDelivered | ShipmentDeliveryFailed | ShipmentReturned

TARGETS: dict[type[ShipmentProgress], Status] = {
    ShipmentHandedToCourier: Status.SHIPPED,
    ShipmentDelivered: Status.DELIVERED,
    ShipmentDeliveryFailed: Status.DELIVERY_FAILED,
    ShipmentReturned: Status.RETURNED,
}


async def on_shipment_event(
    event: ShipmentProgress, uow: ApplicationsUnitOfWork, *, meta: EventMeta, clock: Clock
) -> None:
    app = await uow.applications.get(event.application_id, for_update=True)
    if app is None:
        raise PermanentFailure(f"no application {event.application_id}")
    reason = event.reason if isinstance(event, ShipmentDeliveryFailed | ShipmentReturned) else None
    try:
        moved = app.apply_shipment_event(
            TARGETS[type(event)],
            tracking_number=event.tracking_number,
            carrier=event.carrier,
            occurred_at=event.occurred_at,
            at=clock.now(),
            reason=reason,
        )
    except IllegalTransition as exc:
        raise PermanentFailure(str(exc)) from exc
    if not moved:
        log.info("shipment_event_ignored", application_id=str(app.id), type=meta.type, status=app.status.value)
        return
    await uow.applications.save(app)

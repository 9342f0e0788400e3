"""The applications service's consumers: the courier's progress from the tracking service's
stream, and the expiry warnings the notifications service sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from esign.consumer import ConsumerSpec, Takes
from esign.events import (
    EventMeta,
    ExpiryWarned,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentHandedToCourier,
    ShipmentReturned,
)
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.handlers.expiry_warnings import on_expiry_warned
from services.applications.handlers.shipments import ShipmentProgress, on_shipment_event

if TYPE_CHECKING:
    from services.applications.app import Workers

SHIPMENTS_CONSUMER = "applications-shipments"
EXPIRY_WARNINGS_CONSUMER = "applications-expiry-warnings"


def consumer_specs(workers: Workers) -> list[ConsumerSpec]:
    async def shipment_event(event: ShipmentProgress, uow: ApplicationsUnitOfWork, *, meta: EventMeta) -> None:
        await on_shipment_event(event, uow, meta=meta, clock=workers.clock)

    return [
        ConsumerSpec(
            name=SHIPMENTS_CONSUMER,
            producer="tracking",
            handlers=[
                Takes(ShipmentHandedToCourier, shipment_event),
                Takes(ShipmentDelivered, shipment_event),
                Takes(ShipmentDeliveryFailed, shipment_event),
                Takes(ShipmentReturned, shipment_event),
            ],
        ),
        ConsumerSpec(
            name=EXPIRY_WARNINGS_CONSUMER,
            producer="notifications",
            handlers=[Takes(ExpiryWarned, on_expiry_warned)],
        ),
    ]

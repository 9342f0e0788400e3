"""The shipment's domain events -> the tracking.* contract events (docs/events.md).

The unit of work calls the mapper at commit for every event of every shipment the repository
loaded or added. The hand-over event carries the public query link, so the mapper is built in
``create_app`` from the settings (``ShipmentEventMapping(settings.public_query_url)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from esign.events import (
    EventData,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentHandedToCourier,
    ShipmentOutForDelivery,
    ShipmentReshipped,
    ShipmentReturned,
    ShipmentStuck,
)
from esign.uow import UnmappedEvent
from services.tracking.domain.shipment import FlaggedStuck, ShipmentRef, ShippedAgain, Status, StatusChanged


def query_link(public_query_url: str, tracking_number: str) -> str:
    return f"{public_query_url}?takip={quote(tracking_number)}"


def _tracking_number(shipment: ShipmentRef) -> str:
    # A carrier reports only parcels it registered: a status change without a number is a bug.
    if shipment.tracking_number is None:
        raise ValueError(f"shipment {shipment.shipment_id} moved without a tracking number")
    return shipment.tracking_number


class ShipmentEventMapping:
    """``esign.uow.EventMapper`` of the tracking service."""

    def __init__(self, public_query_url: str) -> None:
        self.public_query_url = public_query_url

    def __call__(self, event: object) -> Iterator[EventData]:
        match event:
            case StatusChanged():
                yield from self._status_changed(event)
            case FlaggedStuck():
                yield ShipmentStuck(
                    shipment_id=event.shipment.shipment_id,
                    application_id=event.shipment.application_id,
                    tracking_number=_tracking_number(event.shipment),
                    carrier=event.shipment.carrier,
                    carrier_name=event.shipment.carrier_name,
                    occurred_at=event.flagged_at,
                    handed_over_at=event.handed_over_at,
                    working_days=event.working_days,
                    last_status=event.last_status.value,
                )
            case ShippedAgain():
                yield ShipmentReshipped(
                    shipment_id=event.shipment.shipment_id,
                    previous_shipment_id=event.previous_shipment_id,
                    application_id=event.shipment.application_id,
                    attempt=event.attempt,
                    carrier=event.shipment.carrier,
                    carrier_name=event.shipment.carrier_name,
                    occurred_at=event.occurred_at,
                )
            case _:
                raise UnmappedEvent(f"{type(event).__name__}: no tracking contract event for it")

    def _status_changed(self, change: StatusChanged) -> Iterator[EventData]:
        shipment = change.shipment
        tracking_number = _tracking_number(shipment)
        common = dict(
            shipment_id=shipment.shipment_id,
            application_id=shipment.application_id,
            tracking_number=tracking_number,
            carrier=shipment.carrier,
            carrier_name=shipment.carrier_name,
            occurred_at=change.occurred_at,
        )
        match change.status:
            case Status.HANDED_TO_COURIER:
                yield ShipmentHandedToCourier(**common, query_url=query_link(self.public_query_url, tracking_number))
            case Status.OUT_FOR_DELIVERY:
                yield ShipmentOutForDelivery(**common)
            case Status.DELIVERED:
                yield ShipmentDelivered(**common)
            case Status.DELIVERY_FAILED:
                yield ShipmentDeliveryFailed(**common, reason=change.reason)
            case Status.RETURNED:
                yield ShipmentReturned(**common, reason=change.reason)
            case Status.CREATED | Status.IN_TRANSIT:
                # Nobody acts on these (the public timeline shows them): published as nothing, on purpose.
                return

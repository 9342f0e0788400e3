"""Domain status changes -> the tracking.* contract events (docs/events.md)."""

from __future__ import annotations

from urllib.parse import quote

from esign.events import (
    EventData,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentHandedToCourier,
    ShipmentOutForDelivery,
    ShipmentReturned,
)
from services.tracking.domain.shipment import Shipment, Status, StatusChanged


def query_link(public_query_url: str, tracking_number: str) -> str:
    return f"{public_query_url}?takip={quote(tracking_number)}"


def contract_event(shipment: Shipment, change: StatusChanged, public_query_url: str) -> EventData | None:
    """None for statuses nobody acts on (created, in_transit: the public timeline shows them)."""
    assert shipment.tracking_number is not None
    common = dict(
        shipment_id=shipment.id,
        application_id=shipment.application_id,
        tracking_number=shipment.tracking_number,
        carrier=shipment.carrier,
        carrier_name=shipment.carrier_name,
        occurred_at=change.occurred_at,
    )
    match change.status:
        case Status.HANDED_TO_COURIER:
            return ShipmentHandedToCourier(**common, query_url=query_link(public_query_url, shipment.tracking_number))
        case Status.OUT_FOR_DELIVERY:
            return ShipmentOutForDelivery(**common)
        case Status.DELIVERED:
            return ShipmentDelivered(**common)
        case Status.DELIVERY_FAILED:
            return ShipmentDeliveryFailed(**common, reason=change.reason)
        case Status.RETURNED:
            return ShipmentReturned(**common, reason=change.reason)
    return None

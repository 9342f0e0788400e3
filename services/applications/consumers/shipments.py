"""The applications service's view of the tracking service's stream."""

from esign.consumer import ConsumerSpec
from services.applications.handlers.shipments import TARGETS, on_shipment_event

SHIPMENTS = ConsumerSpec(
    name="applications-shipments",
    producer="tracking",
    handlers={event_type: on_shipment_event for event_type in TARGETS},
)

"""The tracking service's event mapping, on its own: every shipment event the domain raises becomes
its contract event or, for the statuses nobody acts on, deliberately nothing; anything else is an
error (esign.uow.UnmappedEvent), never a silent drop. The end-to-end path (the unit of work
publishing these at commit) is covered by the API tests that read the TRACKING stream."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from esign.events import ShipmentHandedToCourier, ShipmentReshipped, ShipmentReturned, ShipmentStuck
from esign.uow import UnmappedEvent
from services.tracking.adapters.event_mapping import ShipmentEventMapping
from services.tracking.domain.shipment import CarrierUpdate, Shipment, Status

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
mapping = ShipmentEventMapping("https://esign.test/gonderi-sorgulama")


def registered() -> Shipment:
    return Shipment(
        id=uuid.uuid4(), application_id=uuid.uuid4(), carrier="simulated", carrier_name="Kargo", tracking_number="SIM 1"
    )


def test_the_hand_over_links_to_the_public_query_with_the_number():
    shipment = registered()
    shipment.apply(CarrierUpdate(Status.HANDED_TO_COURIER, AT))
    [event] = [e for domain_event in shipment.pull_events() for e in mapping(domain_event)]
    assert isinstance(event, ShipmentHandedToCourier)
    assert event.query_url == "https://esign.test/gonderi-sorgulama?takip=SIM%201"
    assert (event.shipment_id, event.tracking_number, event.carrier_name) == (shipment.id, "SIM 1", "Kargo")


def test_in_transit_is_published_as_nothing_on_purpose_and_a_return_carries_its_reason():
    shipment = registered()
    shipment.apply(CarrierUpdate(Status.IN_TRANSIT, AT))  # implies the hand-over
    shipment.apply(CarrierUpdate(Status.RETURNED, AT, reason="alıcı tanınmadı"))
    published = [e for domain_event in shipment.pull_events() for e in mapping(domain_event)]
    assert [type(e) for e in published] == [ShipmentHandedToCourier, ShipmentReturned]
    assert published[1].reason == "alıcı tanınmadı"


def test_stuck_and_shipped_again_become_their_contract_events():
    shipment = registered()
    shipment.apply(CarrierUpdate(Status.HANDED_TO_COURIER, AT))
    shipment.flag_stuck(AT, working_days=3)
    [_, stuck] = [e for domain_event in shipment.pull_events() for e in mapping(domain_event)]
    assert isinstance(stuck, ShipmentStuck) and (stuck.working_days, stuck.last_status) == (3, "handed_to_courier")
    shipment.apply(CarrierUpdate(Status.RETURNED, AT))
    shipment.pull_events()
    again = shipment.ship_again(uuid.uuid4(), carrier="http", carrier_name=None, at=AT)
    [reshipped] = [e for domain_event in again.pull_events() for e in mapping(domain_event)]
    assert isinstance(reshipped, ShipmentReshipped)
    assert (reshipped.shipment_id, reshipped.previous_shipment_id, reshipped.attempt) == (again.id, shipment.id, 2)


def test_an_event_it_does_not_know_is_an_error_not_a_silent_drop():
    with pytest.raises(UnmappedEvent):
        list(mapping(object()))

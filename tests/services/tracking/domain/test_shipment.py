"""The shipment state machine: forward only, by the carrier's clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.tracking.domain.shipment import (
    CarrierUpdate,
    FlaggedStuck,
    Outcome,
    Shipment,
    ShippedAgain,
    Status,
    StatusChanged,
    normalise_tracking_number,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def shipment() -> Shipment:
    return Shipment(id=uuid.uuid4(), application_id=uuid.uuid4(), carrier="simulated", tracking_number="SIM1")


def run(*steps: tuple[Status, float]) -> tuple[Shipment, list[Outcome]]:
    s = shipment()
    return s, [s.apply(CarrierUpdate(status, at(h))) for status, h in steps]


def test_the_happy_path_applies_every_step_and_raises_one_event_each():
    s, outcomes = run(
        (Status.HANDED_TO_COURIER, 0), (Status.IN_TRANSIT, 1), (Status.OUT_FOR_DELIVERY, 20), (Status.DELIVERED, 22)
    )
    assert outcomes == [Outcome.APPLIED] * 4
    assert s.status is Status.DELIVERED and s.status_at == at(22) and s.handed_over_at == at(0)
    assert [e.status for e in s.pull_events()] == [
        Status.HANDED_TO_COURIER,
        Status.IN_TRANSIT,
        Status.OUT_FOR_DELIVERY,
        Status.DELIVERED,
    ]
    assert s.pull_events() == []


def test_a_duplicate_changes_nothing():
    _, outcomes = run((Status.IN_TRANSIT, 1), (Status.IN_TRANSIT, 1), (Status.IN_TRANSIT, 3))
    assert outcomes == [Outcome.APPLIED, Outcome.NOT_FORWARD, Outcome.NOT_FORWARD]


def test_an_older_update_is_stale_even_if_it_would_be_forward():
    s, outcomes = run((Status.DELIVERY_FAILED, 10), (Status.OUT_FOR_DELIVERY, 8))
    assert outcomes == [Outcome.APPLIED, Outcome.STALE]  # the attempt before the failure, arriving late
    assert s.status is Status.DELIVERY_FAILED


@pytest.mark.parametrize("final", [Status.DELIVERED, Status.RETURNED])
@pytest.mark.parametrize(
    "later",
    [
        Status.HANDED_TO_COURIER,
        Status.IN_TRANSIT,
        Status.OUT_FOR_DELIVERY,
        Status.DELIVERY_FAILED,
        Status.DELIVERED,
        Status.RETURNED,
    ],
)
def test_delivered_and_returned_are_final(final, later):
    s, outcomes = run((Status.HANDED_TO_COURIER, 0), (final, 5), (later, 9))
    assert outcomes[-1] is Outcome.NOT_FORWARD
    assert s.status is final


@pytest.mark.parametrize(
    "current,back",
    [
        (Status.IN_TRANSIT, Status.HANDED_TO_COURIER),
        (Status.OUT_FOR_DELIVERY, Status.IN_TRANSIT),
        (Status.OUT_FOR_DELIVERY, Status.HANDED_TO_COURIER),
        (Status.DELIVERY_FAILED, Status.HANDED_TO_COURIER),
    ],
)
def test_a_newer_update_that_steps_back_is_refused(current, back):
    s, outcomes = run((current, 1), (back, 2))
    assert outcomes == [Outcome.APPLIED, Outcome.NOT_FORWARD] and s.status is current


def test_after_a_failed_attempt_the_next_attempt_is_forward():
    s, outcomes = run(
        (Status.OUT_FOR_DELIVERY, 1),
        (Status.DELIVERY_FAILED, 5),
        (Status.IN_TRANSIT, 6),
        (Status.OUT_FOR_DELIVERY, 24),
        (Status.DELIVERED, 26),
    )
    assert outcomes == [Outcome.APPLIED] * 5
    assert [e.status for e in s.pull_events()][-4:] == [
        Status.DELIVERY_FAILED,
        Status.IN_TRANSIT,
        Status.OUT_FOR_DELIVERY,
        Status.DELIVERED,
    ]


def test_a_courier_step_reported_first_implies_the_hand_over():
    s, _ = run((Status.OUT_FOR_DELIVERY, 3))
    assert s.pull_events() == [
        StatusChanged(s.ref, Status.HANDED_TO_COURIER, at(3), implied=True),
        StatusChanged(s.ref, Status.OUT_FOR_DELIVERY, at(3)),
    ]
    assert s.handed_over_at == at(3)


def test_a_delivery_reported_first_does_not_invent_a_hand_over_event():
    s, _ = run((Status.DELIVERED, 3))
    assert [e.status for e in s.pull_events()] == [Status.DELIVERED]


def test_the_reason_travels_with_the_event():
    s = shipment()
    s.apply(CarrierUpdate(Status.DELIVERY_FAILED, T0, reason="alıcı adreste yok"))
    assert s.pull_events()[0].reason == "alıcı adreste yok"


def test_a_tracking_number_has_one_spelling_whoever_wrote_it():
    assert normalise_tracking_number(" yk 1234 5678 ") == "YK12345678"
    assert normalise_tracking_number("YK12345678") == "YK12345678"


def test_a_stuck_shipment_is_flagged_once_with_what_the_event_says():
    s, _ = run((Status.HANDED_TO_COURIER, 0), (Status.IN_TRANSIT, 1))
    s.pull_events()
    s.flag_stuck(at(100), working_days=3)
    assert s.stuck_flagged_at == at(100)
    assert s.pull_events() == [
        FlaggedStuck(
            shipment=s.ref, flagged_at=at(100), handed_over_at=at(0), working_days=3, last_status=Status.IN_TRANSIT
        )
    ]
    with pytest.raises(ValueError):
        s.flag_stuck(at(101), working_days=3)  # once
    assert s.pull_events() == []


def test_a_shipment_not_with_the_courier_or_already_final_is_never_stuck():
    with pytest.raises(ValueError):
        shipment().flag_stuck(at(100), working_days=3)
    delivered, _ = run((Status.DELIVERED, 0))
    with pytest.raises(ValueError):
        delivered.flag_stuck(at(100), working_days=3)


def test_shipping_a_returned_parcel_again_raises_the_event_on_the_new_shipment():
    returned, _ = run((Status.HANDED_TO_COURIER, 0), (Status.RETURNED, 30))
    returned.pull_events()
    again = returned.ship_again(uuid.uuid4(), carrier="http", carrier_name="PTT Kargo", at=at(40))
    assert (again.attempt, again.previous_shipment_id, again.status) == (2, returned.id, Status.CREATED)
    assert again.pull_events() == [
        ShippedAgain(shipment=again.ref, previous_shipment_id=returned.id, attempt=2, occurred_at=at(40))
    ]
    assert returned.pull_events() == []

"""From a produced certificate to a delivered card, on real PostgreSQL and NATS: the consumer
makes one shipment per application, the worker registers it with the (simulated) carrier, the
courier's signed reports move it, and the tracking.* events land on the TRACKING stream."""

from __future__ import annotations

import json
import uuid

from nats.js.api import ConsumerConfig, DeliverPolicy

from tests.support.events import publish
from tests.support.tracking import eventually, produced


async def tracking_events(tracking_nc, shipment_id: str, count: int) -> list[dict]:
    """The shipment's events as other services receive them, read off the TRACKING stream."""
    js = tracking_nc.jetstream()
    sub = await js.subscribe(
        "tracking.>", stream="TRACKING", ordered_consumer=True, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    found: list[dict] = []
    try:

        async def probe():
            try:
                while True:
                    msg = await sub.next_msg(timeout=0.2)
                    envelope = json.loads(msg.data)
                    if envelope["data"]["shipment_id"] == shipment_id:
                        found.append(envelope)
            except Exception:  # noqa: BLE001 - not (yet) a readable envelope: keep polling
                pass
            return len(found) >= count

        await eventually(probe, what=f"{count} events of shipment {shipment_id}")
    finally:
        await sub.unsubscribe()
    return found


async def test_a_produced_certificate_becomes_one_registered_shipment(shipments, tracking_nc):
    event = produced(city="İzmir")
    js = tracking_nc.jetstream()
    await publish(js, event, "applications")
    await publish(js, event, "applications")  # redelivered under a new event id (e.g. replayed by an operator)
    shipment = await shipments.registered(event.application_id)

    assert shipment["status"] == "created"
    assert shipment["tracking_number"].startswith("SIM")
    assert shipment["city"] == "İzmir"
    assert shipment["contents"] == {"card_type": "AKIS", "card_reader_type": "acr39u"}
    assert shipment["recipient_name"] == "Ayşe Yılmaz"
    assert shipment["mobile_masked"] == "+90 5** *** ** 67"
    assert "mobile" not in shipment and "delivery_address" not in shipment
    r = await shipments.client.get(
        "/v1/shipments", params={"application_id": str(event.application_id)}, headers=shipments.auth.operator()
    )
    assert r.json()["total"] == 1


async def test_the_simulated_courier_delivers_and_every_step_is_published(shipments, tracking_nc):
    shipment = await shipments.new()
    number = shipment["tracking_number"]
    seen = []
    for _ in range(4):
        r = await shipments.advance(number)
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == "applied"
        seen.append(r.json()["status"])
    assert seen == ["handed_to_courier", "in_transit", "out_for_delivery", "delivered"]

    r = await shipments.advance(number)
    assert r.status_code == 409 and r.json()["code"] == "shipment_final"

    detail = await shipments.detail(shipment["id"])
    assert [t["status"] for t in detail["timeline"]] == ["created", *seen]
    # The courier's own words are kept verbatim next to what they were taken to mean.
    assert [(e["carrier_status"], e["status"], e["outcome"]) for e in detail["carrier_events"]] == [
        ("KARGOYA_VERILDI", "handed_to_courier", "applied"),
        ("TRANSFER_MERKEZINDE", "in_transit", "applied"),
        ("DAGITIMDA", "out_for_delivery", "applied"),
        ("TESLIM_EDILDI", "delivered", "applied"),
    ]
    assert detail["carrier_events"][0]["raw"]["tracking_number"] == number

    events = await tracking_events(tracking_nc, shipment["id"], 3)
    assert [e["type"] for e in events] == [
        "tracking.shipment.handed_to_courier",
        "tracking.shipment.out_for_delivery",
        "tracking.shipment.delivered",
    ]  # in_transit: nobody acts on it
    handed = events[0]["data"]
    assert handed["tracking_number"] == number and handed["carrier"] == "simulated"
    assert handed["application_id"] == shipment["application_id"]
    assert handed["query_url"] == f"http://tracking.test/gonderi-sorgulama?takip={number}"


async def test_a_failed_attempt_is_followed_by_another(shipments, tracking_nc):
    shipment = await shipments.new()
    number = shipment["tracking_number"]
    for step in ({}, {}, {}, {"status": "delivery_failed", "reason": "adreste bulunamadı"}, {}, {}):
        r = await shipments.advance(number, **step)
        assert r.status_code == 200, r.text
    detail = await shipments.detail(shipment["id"])
    assert [t["status"] for t in detail["timeline"]] == [
        "created",
        "handed_to_courier",
        "in_transit",
        "out_for_delivery",
        "delivery_failed",
        "out_for_delivery",
        "delivered",
    ]
    events = await tracking_events(tracking_nc, shipment["id"], 5)
    failed = [e for e in events if e["type"] == "tracking.shipment.delivery_failed"]
    assert failed[0]["data"]["reason"] == "adreste bulunamadı"
    assert events[-1]["type"] == "tracking.shipment.delivered"


async def test_operator_endpoints_refuse_unknown_things(shipments):
    r = await shipments.advance("SIM0000000000")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await shipments.client.get(f"/v1/shipments/{uuid.uuid4()}", headers=shipments.auth.operator())
    assert r.status_code == 404
    r = await shipments.client.get("/v1/shipments", params={"status": "lost"}, headers=shipments.auth.operator())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status.0"


async def test_a_returned_parcel_is_shipped_again_once_with_its_own_key_and_the_holder_is_told(shipments, tracking_nc):
    event = produced()
    await publish(tracking_nc.jetstream(), event, "applications")
    first = await shipments.registered(event.application_id)
    reship = f"/v1/shipments/{first['id']}/reship"

    on_its_way = await shipments.client.post(reship, headers=shipments.auth.operator())
    assert on_its_way.status_code == 409 and on_its_way.json()["code"] == "shipment_not_returned"

    await shipments.advance(first["tracking_number"])
    r = await shipments.advance(first["tracking_number"], status="returned", reason="Alıcı adreste yok")
    assert r.json()["status"] == "returned"

    r = await shipments.client.post(reship, headers=shipments.auth.operator())
    assert r.status_code == 201, r.text
    again = r.json()
    assert again["id"] != first["id"]  # its own id: the carrier's idempotency key for the new parcel
    assert (again["attempt"], again["previous_shipment_id"], again["status"]) == (2, first["id"], "created")
    assert again["carrier_name"] == "Deneme Kargo"
    assert (again["recipient_name"], again["city"], again["mobile_masked"]) == (
        first["recipient_name"],
        first["city"],
        first["mobile_masked"],
    )

    # A second click does not make a third parcel.
    twice = await shipments.client.post(reship, headers=shipments.auth.operator())
    assert twice.status_code == 409
    assert twice.json()["code"] == "shipment_already_reshipped"
    assert twice.json()["next_shipment_id"] == again["id"]

    # The worker registers it like the first: a tracking number of its own.
    async def registered_again():
        detail = await shipments.detail(again["id"])
        return detail if detail["tracking_number"] else None

    second = await eventually(registered_again, what="the second attempt to be registered")
    assert second["tracking_number"] != first["tracking_number"]
    assert second["delivery_address"] == (await shipments.detail(first["id"]))["delivery_address"]

    # The holder is told at once, and again with the new number at hand-over.
    [reshipped] = await tracking_events(tracking_nc, again["id"], 1)
    assert reshipped["type"] == "tracking.shipment.reshipped"
    assert reshipped["data"]["previous_shipment_id"] == first["id"]
    assert reshipped["data"]["attempt"] == 2 and reshipped["data"]["carrier_name"] == "Deneme Kargo"
    assert (await shipments.advance(second["tracking_number"])).json()["status"] == "handed_to_courier"
    events = await tracking_events(tracking_nc, again["id"], 2)
    handed = events[1]
    assert handed["type"] == "tracking.shipment.handed_to_courier"
    assert handed["data"]["tracking_number"] == second["tracking_number"]
    assert (handed["data"]["carrier"], handed["data"]["carrier_name"]) == ("simulated", "Deneme Kargo")

    # The produced certificate redelivered later still finds its (first) shipment: no third one.
    await publish(tracking_nc.jetstream(), event, "applications")
    r = await shipments.client.get(
        "/v1/shipments", params={"application_id": str(event.application_id)}, headers=shipments.auth.operator()
    )
    assert r.json()["total"] == 2


async def test_only_an_existing_shipment_can_be_shipped_again(shipments):
    r = await shipments.client.post(f"/v1/shipments/{uuid.uuid4()}/reship", headers=shipments.auth.operator())
    assert r.status_code == 404

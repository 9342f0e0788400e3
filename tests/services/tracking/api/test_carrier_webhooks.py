"""Carrier webhooks: only correctly signed, fresh, first-time calls are accepted; duplicates and
out-of-order reports never move a shipment backwards; every accepted report is kept verbatim."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.tracking import report, send_webhook, signed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def parcel(shipments) -> dict:
    return await shipments.new()


async def carrier_events(shipments, parcel) -> list[dict]:
    return (await shipments.detail(parcel["id"]))["carrier_events"]


async def test_a_signed_report_moves_the_shipment_and_is_kept_verbatim(client, shipments, parcel):
    body = report(parcel["tracking_number"], "PICKED_UP", T0, location="Ankara Transfer", courier_note="şube 12")
    r = await send_webhook(client, body)
    assert r.status_code == 200, r.text
    assert r.json() == {"outcome": "applied"}
    detail = await shipments.detail(parcel["id"])
    assert detail["status"] == "handed_to_courier"
    assert detail["handed_over_at"] == T0.isoformat().replace("+00:00", "Z")
    [kept] = detail["carrier_events"]
    assert kept["raw"] == json.loads(body)  # extra carrier fields included
    assert kept["carrier_status"] == "PICKED_UP" and kept["status"] == "handed_to_courier"


@pytest.mark.parametrize("case", ["missing", "signature_only", "wrong_secret", "tampered_body", "garbage"])
async def test_unsigned_or_mis_signed_calls_are_refused_and_change_nothing(client, shipments, parcel, case, capsys):
    body = report(parcel["tracking_number"], "DELIVERED", T0)
    headers = {
        "missing": {"Content-Type": "application/json"},
        "signature_only": {k: v for k, v in signed(body).items() if k != "X-Carrier-Timestamp"},
        "wrong_secret": signed(body, secret="not-the-shared-secret"),
        "tampered_body": signed(body.replace(b"DELIVERED", b"RETURNED")),
        "garbage": {**signed(body), "X-Carrier-Signature": "sha256=" + "0" * 64},
    }[case]
    capsys.readouterr()
    r = await client.post("/v1/carrier/webhooks", content=body, headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    expected = "webhook_signature_missing" if case in {"missing", "signature_only"} else "webhook_signature_invalid"
    assert r.json()["code"] == expected
    assert (await shipments.detail(parcel["id"]))["status"] == "created"
    assert await carrier_events(shipments, parcel) == []
    logged = capsys.readouterr().err
    assert "webhook_refused" in logged and expected.removeprefix("webhook_") in logged
    assert parcel["tracking_number"] not in logged  # no body content in logs


# int() rounds the timestamp down and the request takes time: 305, not 301, stays outside a
# 300-second window on a loaded machine.
@pytest.mark.parametrize("skew", [-305, 305, -3600])
async def test_a_stale_or_future_timestamp_is_refused(client, shipments, parcel, skew):
    body = report(parcel["tracking_number"], "DELIVERED", T0)
    r = await send_webhook(client, body, signed(body, timestamp=int(time.time()) + skew))
    assert r.status_code == 401 and r.json()["code"] == "webhook_timestamp_stale"
    assert await carrier_events(shipments, parcel) == []


async def test_a_timestamp_inside_the_tolerance_is_accepted(client, parcel):
    body = report(parcel["tracking_number"], "PICKED_UP", T0)
    r = await send_webhook(client, body, signed(body, timestamp=int(time.time()) - 290))
    assert r.status_code == 200 and r.json()["outcome"] == "applied"


async def test_a_replayed_call_is_refused(client, shipments, parcel):
    body = report(parcel["tracking_number"], "PICKED_UP", T0)
    headers = signed(body)
    first = await send_webhook(client, body, headers)
    again = await send_webhook(client, body, headers)
    assert first.status_code == 200
    assert again.status_code == 409 and again.json()["code"] == "webhook_replayed"
    assert len(await carrier_events(shipments, parcel)) == 1


async def test_a_resent_report_is_a_harmless_duplicate(client, shipments, parcel):
    """The carrier missed our answer and sends the same report (same event id) in a new signed call."""
    body = report(parcel["tracking_number"], "PICKED_UP", T0, event_id="carrier-evt-1")
    assert (await send_webhook(client, body)).json()["outcome"] == "applied"
    resent = await send_webhook(client, body, signed(body, timestamp=int(time.time()) + 1))
    assert resent.status_code == 200 and resent.json()["outcome"] == "duplicate"
    detail = await shipments.detail(parcel["id"])
    assert len(detail["carrier_events"]) == 1
    assert [t["status"] for t in detail["timeline"]] == ["created", "handed_to_courier"]


async def test_out_of_order_reports_never_move_a_shipment_backwards(client, shipments, parcel):
    number = parcel["tracking_number"]
    sent = [  # as they arrive: delivered first, then the older steps
        (report(number, "PICKED_UP", T0), "applied"),
        (report(number, "DELIVERED", T0 + timedelta(hours=30)), "applied"),
        (report(number, "OUT_FOR_DELIVERY", T0 + timedelta(hours=26)), "stale"),
        (report(number, "IN_TRANSIT", T0 + timedelta(hours=2)), "stale"),
        (report(number, "RETURNED", T0 + timedelta(hours=40)), "not_forward"),  # delivered is final
    ]
    for body, outcome in sent:
        r = await send_webhook(client, body)
        assert r.status_code == 200 and r.json()["outcome"] == outcome, (body, r.text)
    detail = await shipments.detail(parcel["id"])
    assert detail["status"] == "delivered"
    assert [t["status"] for t in detail["timeline"]] == ["created", "handed_to_courier", "delivered"]
    assert [e["outcome"] for e in detail["carrier_events"]] == [o for _, o in sent]  # all kept


async def test_an_older_step_arriving_after_a_newer_one_is_kept_but_ignored(client, shipments, parcel):
    number = parcel["tracking_number"]
    await send_webhook(client, report(number, "OUT_FOR_DELIVERY", T0 + timedelta(hours=5)))
    r = await send_webhook(client, report(number, "PICKED_UP", T0))
    assert r.json()["outcome"] == "stale"
    detail = await shipments.detail(parcel["id"])
    # Reaching "out for delivery" first implies the hand-over (the holder is told it is on its way).
    assert detail["status"] == "out_for_delivery"
    assert detail["handed_over_at"] == (T0 + timedelta(hours=5)).isoformat().replace("+00:00", "Z")


async def test_an_unknown_carrier_word_is_kept_and_moves_nothing(client, shipments, parcel, capsys):
    r = await send_webhook(client, report(parcel["tracking_number"], "GUMRUKTE_BEKLIYOR", T0))
    assert r.status_code == 200 and r.json()["outcome"] == "unknown_status"
    detail = await shipments.detail(parcel["id"])
    assert detail["status"] == "created"
    assert detail["carrier_events"][0]["status"] is None


async def test_a_signed_but_unreadable_report_is_refused(client, parcel):
    for body in (
        b"not json",
        json.dumps({"tracking_number": parcel["tracking_number"]}).encode(),
        report(parcel["tracking_number"], "DELIVERED", T0.replace(tzinfo=None)),
    ):
        r = await send_webhook(client, body)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "webhook_payload_invalid"

"""Stuck shipments: handed over, not delivered or returned within 10 working days (Europe/Istanbul
calendar, weekends excluded) -> flagged exactly once, with a tracking.shipment.stuck event in the
same transaction; listed for operators."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.tracking.adapters import orm
from tests.support.tracking import report, send_webhook

IST = ZoneInfo("Europe/Istanbul")
FRIDAY_HAND_OVER = datetime(2026, 2, 6, 15, 0, tzinfo=IST)
LAST_DAY_EVENING = datetime(2026, 2, 20, 20, 0, tzinfo=IST)  # Friday two weeks later: still within the promise
AFTER_MIDNIGHT = datetime(2026, 2, 21, 0, 30, tzinfo=IST)  # still the 20th in UTC, the 21st in Türkiye


async def stuck_events(app, shipment_id: str) -> list[dict]:
    async with app.state.runtime.uow() as uow:
        rows = (
            (
                await uow.session.execute(
                    sa.select(orm.messaging.outbox.c.envelope).where(
                        orm.messaging.outbox.c.subject == "tracking.shipment.stuck"
                    )
                )
            )
            .scalars()
            .all()
        )
    return [e for e in rows if e["data"]["shipment_id"] == shipment_id]


async def handed_over(client, shipments, when: datetime) -> dict:
    parcel = await shipments.new()
    r = await send_webhook(client, report(parcel["tracking_number"], "PICKED_UP", when))
    assert r.json()["outcome"] == "applied"
    return parcel


async def test_a_shipment_is_flagged_once_after_ten_working_days(client, shipments, tracking_app, clock):
    late = await handed_over(client, shipments, FRIDAY_HAND_OVER)
    delivered = await handed_over(client, shipments, FRIDAY_HAND_OVER)
    await send_webhook(
        client, report(delivered["tracking_number"], "DELIVERED", datetime(2026, 2, 10, tzinfo=timezone.utc))
    )
    workers = tracking_app.state.workers
    try:
        clock.frozen = LAST_DAY_EVENING
        await workers.detect_stuck()
        assert await stuck_events(tracking_app, late["id"]) == []

        clock.frozen = AFTER_MIDNIGHT
        await asyncio.gather(workers.detect_stuck(), workers.detect_stuck())  # two replicas at once
        await workers.detect_stuck()  # and a later pass
    finally:
        clock.frozen = None

    [event] = await stuck_events(tracking_app, late["id"])
    assert event["data"]["application_id"] == late["application_id"]
    assert event["data"]["tracking_number"] == late["tracking_number"]
    assert event["data"]["working_days"] == 10 and event["data"]["last_status"] == "handed_to_courier"
    assert datetime.fromisoformat(event["data"]["handed_over_at"]) == FRIDAY_HAND_OVER
    assert await stuck_events(tracking_app, delivered["id"]) == []

    detail = await shipments.detail(late["id"])
    assert datetime.fromisoformat(detail["stuck_flagged_at"]) == AFTER_MIDNIGHT
    r = await client.get("/v1/shipments/stuck", params={"limit": 500}, headers=shipments.auth.operator())
    listed = {s["id"] for s in r.json()["items"]}
    assert late["id"] in listed and delivered["id"] not in listed


async def test_a_shipment_never_handed_over_is_not_stuck(shipments, tracking_app, clock):
    parcel = await shipments.new()
    try:
        clock.frozen = datetime(2026, 2, 25, tzinfo=timezone.utc)
        await tracking_app.state.workers.detect_stuck()
    finally:
        clock.frozen = None
    assert await stuck_events(tracking_app, parcel["id"]) == []

"""Recipient data of a delivered shipment is removed after its period (docs/personal-data.md):
name, mobile and address go; status, city and timeline stay; shipments not delivered, or
delivered recently, keep theirs. Two replicas' passes at once do it once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa

from services.tracking.adapters import orm
from tests.services.tracking.api.test_public_query import client_address, query
from tests.support.tracking import report, send_webhook

DELIVERED_LONG_AGO = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DELIVERED_RECENTLY = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
PASS_AT = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # 31 days after the first, 12 after the second


async def delivered(client, shipments, when: datetime, mobile: str) -> dict:
    parcel = await shipments.new(mobile=mobile, city="Bursa", first_name="Elif", last_name="Demir")
    r = await send_webhook(client, report(parcel["tracking_number"], "DELIVERED", when))
    assert r.json()["outcome"] == "applied", r.text
    return parcel


async def test_recipient_data_goes_after_its_period_and_the_history_stays(client, shipments, tracking_app, clock):
    old = await delivered(client, shipments, DELIVERED_LONG_AGO, "+905551110001")
    recent = await delivered(client, shipments, DELIVERED_RECENTLY, "+905551110002")
    on_the_way = await shipments.new(mobile="+905551110003")
    r = await send_webhook(client, report(on_the_way["tracking_number"], "PICKED_UP", DELIVERED_LONG_AGO))
    assert r.json()["outcome"] == "applied"
    assert (await query(client, old["tracking_number"], "0001", client_address())).status_code == 200

    workers = tracking_app.state.workers
    try:
        clock.frozen = PASS_AT
        await asyncio.gather(workers.erase_recipients(), workers.erase_recipients())  # two replicas at once
    finally:
        clock.frozen = None

    erased = await shipments.detail(old["id"])
    assert erased["recipient_name"] is None and erased["mobile_masked"] is None
    assert erased["delivery_address"] is None and erased["recipient_erased_at"] is not None
    assert erased["status"] == "delivered" and erased["city"] == "Bursa"
    assert [s["status"] for s in erased["timeline"]][-1] == "delivered"
    async with tracking_app.state.runtime.uow() as uow:
        row = (await uow.session.execute(sa.select(orm.shipments).where(orm.shipments.c.id == old["id"]))).one()
    assert (row.recipient_name, row.mobile, row.delivery_address) == (None, None, None)
    # The public query needs the mobile's digits: with them gone it answers as for an unknown number.
    gone = await query(client, old["tracking_number"], "0001", client_address())
    assert gone.status_code == 404

    for kept, digits in ((recent, "0002"), (on_the_way, "0003")):
        detail = await shipments.detail(kept["id"])
        assert detail["recipient_name"] and detail["delivery_address"] and detail["recipient_erased_at"] is None
        assert detail["mobile_masked"].endswith(digits[-2:])

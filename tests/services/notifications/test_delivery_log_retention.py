"""The delivery log after its period (docs/personal-data.md): finished deliveries keep their row
but the recipient is masked in storage and the template data removed; queued and recent ones are
untouched; masked rows cannot be resent; two replicas' passes at once mask each row once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from esign.clock import Clock
from services.notifications.adapters.orm import deliveries
from services.notifications.domain.delivery import Channel, NewDelivery
from services.notifications.handlers.retention import mask_old_deliveries

# Long before the rest of the session's deliveries, so this pass touches only this test's rows.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
PASS_AT = datetime(2020, 6, 1, tzinfo=UTC)
KEEP = timedelta(days=90)


class PassClock(Clock):
    def now(self) -> datetime:
        return PASS_AT


PASS_CLOCK = PassClock()


def new(event: uuid.UUID, channel: Channel, recipient: str) -> NewDelivery:
    return NewDelivery(
        source_event_id=event,
        channel=channel,
        recipient=recipient,
        template="application_rejected",
        locale="tr",
        context={"first_name": "Ümit", "last_name": "Çelik"},
    )


async def seed(runtime, rows: list[tuple[NewDelivery, datetime, str]]) -> list[uuid.UUID]:
    ids = []
    async with runtime.uow() as uow:
        for delivery, created_at, status in rows:
            await uow.deliveries.enqueue([delivery], created_at)
            ids.append(
                await uow.session.scalar(
                    sa.update(deliveries)
                    .where(
                        deliveries.c.source_event_id == delivery.source_event_id,
                        deliveries.c.recipient == delivery.recipient,
                    )
                    .values(status=status, last_error="SMTP 550 for ***" if status != "sent" else None)
                    .returning(deliveries.c.id)
                )
            )
        await uow.commit()
    return ids


async def test_finished_deliveries_past_their_period_are_masked_and_stay_listed(runtime, client, auth, deliveries_of):
    digest, rejected = uuid.uuid4(), uuid.uuid4()
    recent = LONG_AGO + timedelta(days=120)  # 32 days before the pass
    sent_a, sent_b, dead_sms, failed, queued, fresh = await seed(
        runtime,
        [
            # Two officers of one institution whose masked addresses are the same text.
            (new(digest, Channel.EMAIL, "ayse@ornek.edu.tr"), LONG_AGO, "sent"),
            (new(digest, Channel.EMAIL, "ahmet@ornek.edu.tr"), LONG_AGO, "sent"),
            (new(rejected, Channel.SMS, "+905321234567"), LONG_AGO, "dead"),
            (new(rejected, Channel.EMAIL, "umit@ornek.edu.tr"), LONG_AGO, "failed"),
            (new(uuid.uuid4(), Channel.EMAIL, "kuyruk@ornek.edu.tr"), LONG_AGO, "queued"),
            (new(uuid.uuid4(), Channel.EMAIL, "yeni@ornek.edu.tr"), recent, "sent"),
        ],
    )

    async def one_pass() -> int:
        async with runtime.uow() as uow:
            return await mask_old_deliveries(uow, clock=PASS_CLOCK, keep=KEEP)

    await asyncio.gather(one_pass(), one_pass())  # two replicas at once

    async def row(delivery_id):
        [r] = await deliveries_of(id=delivery_id)
        return r

    for delivery_id, masked in (
        (sent_a, "a***@ornek.edu.tr"),
        (sent_b, "a***@ornek.edu.tr"),
        (dead_sms, "+90 5** *** ** 67"),
        (failed, "u***@ornek.edu.tr"),
    ):
        r = await row(delivery_id)
        assert (r.recipient, r.context, r.sealed_secret) == (masked, {}, None)
        assert r.contact_masked_at is not None and r.status in {"sent", "dead", "failed"}
        shown = await client.get(f"/v1/deliveries/{delivery_id}", headers=auth.operator())
        assert shown.status_code == 200 and shown.json()["recipient"] == masked
    for delivery_id, recipient in ((queued, "kuyruk@ornek.edu.tr"), (fresh, "yeni@ornek.edu.tr")):
        r = await row(delivery_id)
        assert r.recipient == recipient and r.context["first_name"] == "Ümit" and r.contact_masked_at is None

    refused = await client.post(f"/v1/deliveries/{failed}/resend", headers=auth.operator())
    assert refused.status_code == 409 and refused.json()["code"] == "recipient_removed"
    assert (await row(failed)).status == "failed"


async def test_deduplication_still_holds_for_rows_in_the_clear_next_to_masked_ones(runtime):
    event = uuid.uuid4()
    await seed(runtime, [(new(event, Channel.EMAIL, "ayse@ornek.edu.tr"), LONG_AGO, "sent")])
    async with runtime.uow() as uow:
        await mask_old_deliveries(uow, clock=PASS_CLOCK, keep=KEEP)
    async with runtime.uow() as uow:
        # Within the window the same message twice is recorded once...
        fresh = new(uuid.uuid4(), Channel.EMAIL, "ayse@ornek.edu.tr")
        assert await uow.deliveries.enqueue([fresh]) == 1
        assert await uow.deliveries.enqueue([fresh]) == 0
        await uow.commit()

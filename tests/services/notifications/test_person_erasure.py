"""``applications.person.erased`` on the real database, through the service's own JetStream
consumer (docs/personal-data.md, "Retention"): what the notifications service keeps of an erased
person for those applications goes (the recipient directory row, the certificates with their
reminders), queued messages are cancelled and the delivery log's contacts masked, while statuses
and counts stay; another person's data is untouched; the handler applied twice has the effect once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from esign.events import EventMeta, PersonErased
from services.notifications.adapters.orm import certificates, deliveries, expiry_reminders, recipients
from services.notifications.domain.delivery import Channel, DeliveryStatus, NewDelivery
from services.notifications.handlers.incoming_events import EventHandlers
from tests.support.events import publish
from tests.support.notifications import Person, eventually

FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)  # a queued delivery the worker does not take during the test


async def known_person(js, runtime, person: Person) -> dict:
    """The person as the notifications service comes to know them: the invitation, a produced
    certificate with a reminder decided, every message of those sent, and one still queued."""
    serial = f"S-{uuid.uuid4().hex[:12]}"
    await publish(js, person.invitation(), "applications")
    await publish(js, person.produced(serial, datetime.now(UTC) + timedelta(days=700)), "applications")

    async def certificate():
        async with runtime.session_factory() as s:
            return (await s.execute(sa.select(certificates).where(certificates.c.serial == serial))).first()

    cert = await eventually(certificate)
    async with runtime.uow() as uow:
        await uow.certificates.record_reminders([(cert.id, 40, [])], datetime.now(UTC))
        await uow.deliveries.enqueue(
            [
                NewDelivery(
                    source_event_id=uuid.uuid4(),
                    channel=Channel.SMS,
                    recipient=person.mobile,
                    template="certificate_produced",
                    locale="tr",
                    context={"first_name": person.first_name},
                    application_id=person.application_id,
                    institution_id=person.institution_id,
                )
            ],
            FAR_FUTURE,
        )
        await uow.commit()

    async def all_sent_but_the_queued_one():
        rows = await deliveries_for(runtime, person)
        statuses = sorted(r.status for r in rows)
        return rows if len(rows) >= 3 and statuses.count("queued") == 1 and "failed" not in statuses else None

    await eventually(all_sent_but_the_queued_one)
    return {"certificate_id": cert.id}


async def deliveries_for(runtime, person: Person) -> list[sa.Row]:
    async with runtime.session_factory() as s:
        query = sa.select(deliveries).where(deliveries.c.application_id == person.application_id)
        return list((await s.execute(query.order_by(deliveries.c.id))).all())


async def kept(runtime, person: Person, certificate_id: uuid.UUID) -> tuple[list, list, list]:
    async with runtime.session_factory() as s:
        recipient = (
            await s.execute(sa.select(recipients).where(recipients.c.application_id == person.application_id))
        ).all()
        certs = (
            await s.execute(
                sa.select(certificates).where(
                    sa.or_(
                        certificates.c.holder_id == person.holder_id,
                        certificates.c.application_id == person.application_id,
                    )
                )
            )
        ).all()
        reminders = (
            await s.execute(sa.select(expiry_reminders).where(expiry_reminders.c.certificate_id == certificate_id))
        ).all()
    return list(recipient), list(certs), list(reminders)


def erased(person: Person) -> PersonErased:
    return PersonErased(
        person_id=person.holder_id, application_ids=(person.application_id,), erased_at=datetime.now(UTC)
    )


async def test_an_erased_persons_contacts_certificates_and_queued_messages_go_and_the_log_is_masked(
    notifications_app, notifications_js, runtime
):
    gone, other = Person(), Person()
    gone_ids = await known_person(notifications_js, runtime, gone)
    other_ids = await known_person(notifications_js, runtime, other)
    before = await deliveries_for(runtime, gone)
    other_before = await deliveries_for(runtime, other)
    recipient, certs, reminders = await kept(runtime, gone, gone_ids["certificate_id"])
    assert recipient and certs and reminders  # there is something to remove

    await publish(notifications_js, erased(gone), "applications")

    async def removed():
        recipient, certs, reminders = await kept(runtime, gone, gone_ids["certificate_id"])
        return not recipient and not certs and not reminders

    await eventually(removed)
    after = await deliveries_for(runtime, gone)
    # Counts and outcomes stay: sent ones stay sent, the queued one is cancelled, never sent.
    assert [r.id for r in after] == [r.id for r in before]
    assert [r.status for r in after] == [
        DeliveryStatus.CANCELLED.value if r.status == "queued" else r.status for r in before
    ]
    assert [(r.template, r.channel, r.sent_at) for r in after] == [(r.template, r.channel, r.sent_at) for r in before]
    for row in after:
        assert row.contact_masked_at is not None and row.context == {} and row.sealed_secret is None
        assert "***" in row.recipient and row.recipient not in (gone.email, gone.mobile)
        assert gone.last_name not in str(row._mapping) and gone.email not in str(row._mapping)
    # The other person is untouched.
    assert await deliveries_for(runtime, other) == other_before
    other_recipient, other_certs, other_reminders = await kept(runtime, other, other_ids["certificate_id"])
    assert other_recipient and other_certs and other_reminders
    # A masked delivery cannot be resent: there is nobody to send it to.
    async with runtime.uow() as uow:
        assert await uow.deliveries.requeue(after[0].id, datetime.now(UTC)) is None


async def test_the_handler_applied_twice_has_the_effect_once(notifications_app, notifications_js, runtime):
    person = Person()
    ids = await known_person(notifications_js, runtime, person)
    handlers = EventHandlers(default_locale="tr", shipment_query_url="https://esign.test/sorgu")
    event = erased(person)
    meta = EventMeta(
        id=uuid.uuid4(), type=event.type, version=event.version, time=datetime.now(UTC), producer="applications"
    )

    async with runtime.uow() as uow:
        await handlers.person_erased(event, uow, meta=meta)
        await uow.commit()
    once = await deliveries_for(runtime, person)
    async with runtime.uow() as uow:
        await handlers.person_erased(event, uow, meta=meta)
        await uow.commit()
    # Nothing masked twice (a masked address masked again would change), nothing else touched.
    assert await deliveries_for(runtime, person) == once
    assert sum(r.status == DeliveryStatus.CANCELLED.value for r in once) == 1
    assert await kept(runtime, person, ids["certificate_id"]) == ([], [], [])

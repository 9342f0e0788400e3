"""End to end on real PostgreSQL and NATS JetStream: the applications service erases a person
whose invitation ran out long ago (its people-erasure pass with a clock two years on), its relay
publishes ``applications.person.erased`` from the outbox, and the notifications service's own
consumer removes what it kept of that person: the recipient row goes and the invitation e-mail,
still queued (no mail server here), is cancelled with its recipient masked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.applications.domain.people_retention import PeopleRetention
from services.applications.handlers.people_retention import erase_people_past_their_purpose
from services.notifications.adapters.orm import deliveries, recipients
from tests.support.applications import Flow, InvitationInbox, person
from tests.support.auth import Auth
from tests.support.clock import SettableClock
from tests.support.tracking import eventually


def runtime_of(client):
    return client._transport.app.state.runtime  # the ASGI app behind the test client


async def test_an_erased_person_is_forgotten_by_the_notifications_service(
    applications_client, notifications_client, integration_nc
):
    auth = Auth()
    inbox = InvitationInbox(integration_nc)
    await inbox.start()
    try:
        flow = Flow(applications_client, auth, inbox)
        institution = await flow.institution()
        holder = person(4343)
        [invitation] = (await flow.invited(institution, [holder])).values()
    finally:
        await inbox.stop()
    notifications = runtime_of(notifications_client)

    async def their_rows():
        async with notifications.session_factory() as s:
            recipient = (
                await s.execute(sa.select(recipients).where(recipients.c.application_id == invitation.application_id))
            ).all()
            sent_to = (
                await s.execute(sa.select(deliveries).where(deliveries.c.application_id == invitation.application_id))
            ).all()
        return recipient, sent_to

    async def known():
        recipient, sent_to = await their_rows()
        return recipient and sent_to

    await eventually(known, timeout=30, what="the notifications service to know the invitee")

    applications = runtime_of(applications_client)
    two_years_on = SettableClock.at(datetime.now(UTC) + timedelta(days=730))
    rules = PeopleRetention(without_certificate=timedelta(days=180), after_certificate=timedelta(days=365))
    async with applications.uow() as uow:
        await erase_people_past_their_purpose(uow, clock=two_years_on, rules=rules)  # 0 unless a batch filled

    async def forgotten():
        recipient, sent_to = await their_rows()
        return sent_to if not recipient and all(d.contact_masked_at for d in sent_to) else None

    sent_to = await eventually(forgotten, timeout=30, what="the person to be forgotten")
    assert {d.status for d in sent_to} <= {"cancelled", "failed", "dead", "sent"}
    assert "cancelled" in {d.status for d in sent_to}  # the e-mail still waiting for a mail server
    for d in sent_to:
        assert d.recipient != holder["email"] and "***" in d.recipient and d.context == {}

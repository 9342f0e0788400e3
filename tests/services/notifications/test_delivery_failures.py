"""Failures and how the delivery log lives through them: an SMTP outage (every message arrives
once when the server is back), permanent refusals (never retried), the SMS provider's transient
and permanent codes, an operator's resend, and a shipment event that arrives before the
application is known (retried, not dropped)."""

from __future__ import annotations

import collections
import uuid
from datetime import datetime, timezone

from esign.events import ApplicationRejected, FormCompleted, ShipmentHandedToCourier
from tests.support.events import publish
from tests.support.notifications import Person, eventually


def completed(p: Person, email: str | None = None) -> FormCompleted:
    return FormCompleted(
        application_id=p.application_id,
        institution_id=p.institution_id,
        first_name=p.first_name,
        last_name=p.last_name,
        email=email or p.email,
    )


def rejected(p: Person, mobile: str | None = None) -> ApplicationRejected:
    return ApplicationRejected(
        application_id=p.application_id,
        institution_id=p.institution_id,
        reason="İmza eksik",
        email=p.email,
        mobile=mobile or p.mobile,
        first_name=p.first_name,
        last_name=p.last_name,
    )


def statuses(rows) -> list[str]:
    return sorted(r.status for r in rows)


async def test_smtp_down_for_a_while_then_back_every_message_arrives_once(
    notifications_app, notifications_js, smtp, deliveries_of
):
    people = [Person() for _ in range(12)]
    smtp.stop()
    try:
        for p in people:
            await publish(notifications_js, completed(p), "applications")

        async def all_retrying():
            rows = [r for p in people for r in await deliveries_of(application_id=p.application_id)]
            return len(rows) == len(people) and all(r.status == "queued" and r.attempts >= 2 for r in rows) and rows

        rows = await eventually(all_retrying)
        assert all("smtp_unreachable" in r.last_error for r in rows)
        assert not any(smtp.to(p.email) for p in people)
    finally:
        smtp.start()

    async def all_sent():
        rows = [r for p in people for r in await deliveries_of(application_id=p.application_id)]
        return all(r.status == "sent" for r in rows) and rows

    rows = await eventually(all_sent)
    received = collections.Counter(m["Message-ID"] for p in people for m in smtp.to(p.email))
    assert len(received) == len(people) and set(received.values()) == {1}
    assert all(r.provider_ref.split()[0] in received for r in rows)


async def test_a_refused_mailbox_fails_at_once_and_is_not_retried(notifications_app, notifications_js, deliveries_of):
    p = Person()
    await publish(notifications_js, completed(p, email=f"kisi{p.n}@refused.invalid"), "applications")

    async def done():
        rows = await deliveries_of(application_id=p.application_id)
        return rows if rows and rows[0].status != "queued" else None

    [row] = await eventually(done)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("smtp_550")


async def test_invalid_number_is_permanent_and_provider_5xx_is_retried(
    notifications_app, notifications_js, sms_stub, deliveries_of
):
    bad, flaky = Person(), Person()
    invalid_number = f"+905{bad.n % 10**7:07d}00"
    await publish(notifications_js, rejected(bad, mobile=invalid_number), "applications")

    async def sms_done(p):
        rows = [r for r in await deliveries_of(application_id=p.application_id, channel="sms")]
        return rows if rows and rows[0].status != "queued" else None

    [row] = await eventually(lambda: sms_done(bad))
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "sms_50: invalid number")
    assert len(sms_stub.to(invalid_number)) == 1

    sms_stub.fail_next = 2  # the provider answers 503 twice, then accepts
    await publish(notifications_js, rejected(flaky), "applications")
    [row] = await eventually(lambda: sms_done(flaky))
    assert (row.status, row.attempts) == ("sent", 3)
    assert row.provider_ref.startswith("job:")
    texts = sms_stub.to(flaky.mobile)
    assert len(texts) == 3 and len(set(texts)) == 1  # the same text each time
    request = next(r for r in reversed(sms_stub.received) if r["body"]["messages"][0]["no"] == flaky.mobile.lstrip("+"))
    assert request["auth"].startswith("Basic ") and request["body"]["msgheader"] == "KAMUSM"
    assert request["body"]["reference"] == str(row.id)


async def test_provider_credentials_refused_is_retried_not_failed(
    notifications_app, notifications_js, sms_stub, deliveries_of
):
    p = Person()
    sms_stub.code_next = ["30"]
    await publish(notifications_js, rejected(p), "applications")

    async def sent():
        rows = await deliveries_of(application_id=p.application_id, channel="sms")
        return rows if rows and rows[0].status == "sent" else None

    [row] = await eventually(sent)
    assert row.attempts == 2


async def test_operator_resends_a_failed_delivery(
    notifications_app, notifications_js, sms_stub, client, auth, deliveries_of
):
    p = Person()
    sms_stub.code_next = ["20"]  # the provider rejects the text once (permanent)
    await publish(notifications_js, rejected(p), "applications")

    async def sms_row(status):
        rows = await deliveries_of(application_id=p.application_id, channel="sms")
        return rows if rows and rows[0].status == status else None

    [row] = await eventually(lambda: sms_row("failed"))
    r = await client.post(f"/v1/deliveries/{row.id}/resend", headers=auth.operator())
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued" and r.json()["attempts"] == 0 and r.json()["resends"] == 1
    [row] = await eventually(lambda: sms_row("sent"))
    assert (row.attempts, row.resends) == (1, 1)
    assert len(sms_stub.to(p.mobile)) == 2

    again = await client.post(f"/v1/deliveries/{row.id}/resend", headers=auth.operator())
    assert again.status_code == 409 and again.json()["code"] == "not_resendable"


async def test_a_shipment_event_before_its_application_is_retried_until_it_can_be_addressed(
    notifications_app, notifications_js, smtp, deliveries_of
):
    p = Person(locale="en")
    await publish(
        notifications_js,
        ShipmentHandedToCourier(
            shipment_id=uuid.uuid4(),
            application_id=p.application_id,
            tracking_number="EARLY123",
            carrier="Aras",
            occurred_at=datetime.now(timezone.utc),
        ),
        "tracking",
    )

    async def redelivered():
        info = await notifications_js.consumer_info("TRACKING", "notifications-tracking")
        return info.num_redelivered or info.num_ack_pending

    await eventually(redelivered)
    assert await deliveries_of(application_id=p.application_id) == []

    await publish(notifications_js, p.invitation(), "applications")
    mails = await eventually(lambda: _some([m for m in smtp.to(p.email) if "EARLY123" in m["Subject"]]))
    assert len(mails) == 1 and mails[0]["Subject"] == "Your e-signature card has shipped: EARLY123"


async def _some(items):
    return items or None

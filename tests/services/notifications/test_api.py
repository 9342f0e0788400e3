"""The delivery log and template API: who may call what (every route in the OpenAPI document is
listed), officers confined to their institution, masked recipients, filters, previews."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from esign.events import ApplicationRejected
from esign.messaging_tables import PAYLOAD_REMOVED
from services.notifications.consumers import APPLICATIONS_CONSUMER
from tests.support.events import publish
from tests.support.notifications import Person, eventually
from tests.support.openapi import KERNEL_PUBLIC, kernel_matrix, operations, undocumented

# (method, path) -> roles allowed. "officer" means an officer of the delivery's institution.
MATRIX: dict[tuple[str, str], set[str]] = kernel_matrix("notifications") | {
    ("GET", "/v1/deliveries"): {"operator", "officer"},
    ("GET", "/v1/deliveries/{delivery_id}"): {"operator", "officer"},
    ("POST", "/v1/deliveries/{delivery_id}/resend"): {"operator"},
    ("GET", "/v1/templates"): {"operator"},
    ("GET", "/v1/templates/{template}/preview"): {"operator"},
}
PUBLIC = KERNEL_PUBLIC


def test_the_matrix_names_every_route(notifications_app):
    assert operations(notifications_app.openapi()) - PUBLIC == set(MATRIX)


def test_every_operation_is_documented(notifications_app):
    doc = notifications_app.openapi()
    assert undocumented(doc, {path for _, path in PUBLIC}) == []
    for method, path in operations(doc) - PUBLIC:  # every protected one says who may not call it
        responses = doc["paths"][path][method.lower()]["responses"]
        assert "401" in responses and "403" in responses, (method, path)


@pytest.fixture(scope="module")
async def world(notifications_app, notifications_js, runtime):
    """Institution A with a rejected application (an e-mail and an SMS delivery); institution B."""
    p = Person(first_name="Ümit", last_name="Çelik")
    await publish(
        notifications_js,
        ApplicationRejected(
            application_id=p.application_id,
            institution_id=p.institution_id,
            reason="Eksik belge",
            email=p.email,
            mobile=p.mobile,
            first_name=p.first_name,
            last_name=p.last_name,
        ),
        "applications",
    )

    async def sent():
        async with runtime.uow() as uow:
            from services.notifications.adapters.repositories.deliveries import DeliveryFilter

            rows = (
                await uow.deliveries.page(DeliveryFilter(application_id=p.application_id), offset=0, limit=10)
            ).items
        return rows if len(rows) == 2 and all(r.status == "sent" for r in rows) else None

    rows = await eventually(sent)
    return {
        "person": p,
        "a": p.institution_id,
        "b": uuid.uuid4(),
        "email_delivery": next(r.id for r in rows if r.channel == "email"),
        "sms_delivery": next(r.id for r in rows if r.channel == "sms"),
    }


def headers_for(role, world, auth):
    return {
        "operator": auth.operator(),
        "officer": auth.officer(world["a"]),
        "foreign_officer": auth.officer(world["b"]),
        "applicant": auth.applicant(world["person"].application_id),
    }[role]


async def call(client, method, path, world, headers):
    url = path.format(delivery_id=world["email_delivery"], template="invitation", dead_letter_id=uuid.uuid4())
    return await client.request(method, url, headers=headers)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
async def test_route_refuses_who_it_must(route, client, auth, world):
    method, path = route
    r = await call(client, method, path, world, {})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    for role in ("operator", "officer", "applicant"):
        if role not in MATRIX[route]:
            r = await call(client, method, path, world, headers_for(role, world, auth))
            assert r.status_code in (403, 404), (role, r.status_code, r.text)


async def test_officers_see_only_their_institution(client, auth, world):
    mine = await client.get(
        "/v1/deliveries",
        params={"application_id": str(world["person"].application_id)},
        headers=auth.officer(world["a"]),
    )
    assert mine.status_code == 200 and mine.json()["total"] == 2
    foreign = auth.officer(world["b"])
    listing = await client.get("/v1/deliveries", headers=foreign)
    assert listing.status_code == 200 and str(world["a"]) not in listing.text
    assert (
        await client.get("/v1/deliveries", params={"institution_id": str(world["a"])}, headers=foreign)
    ).status_code == 404
    assert (await client.get(f"/v1/deliveries/{world['email_delivery']}", headers=foreign)).status_code == 404


async def test_listing_filters_and_masks(client, auth, world):
    p = world["person"]
    r = await client.get(
        "/v1/deliveries", params={"application_id": str(p.application_id), "channel": "sms"}, headers=auth.operator()
    )
    [sms] = r.json()["items"]
    assert sms["recipient"] == f"+90 5** *** ** {p.mobile[-2:]}" and p.mobile not in r.text
    assert (
        sms["template"] == "application_rejected" and sms["status"] == "sent" and sms["provider_ref"].startswith("job:")
    )
    one = (await client.get(f"/v1/deliveries/{world['email_delivery']}", headers=auth.operator())).json()
    assert one["recipient"] == "k***@ornek.edu.tr" and p.email not in str(one)

    for params, expected in [
        ({"status": "sent"}, 2),
        ({"status": "dead"}, 0),
        ({"template": "application_rejected"}, 2),
        ({"template": "invitation"}, 0),
        ({"institution_id": str(p.institution_id)}, 2),
        ({"until": (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()}, 0),
        ({"since": (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()}, 2),
    ]:
        r = await client.get(
            "/v1/deliveries", params={"application_id": str(p.application_id), **params}, headers=auth.operator()
        )
        assert r.json()["total"] == expected, (params, r.text)
    page = await client.get(
        "/v1/deliveries",
        params={"application_id": str(p.application_id), "limit": 1, "offset": 1},
        headers=auth.operator(),
    )
    assert page.json()["total"] == 2 and len(page.json()["items"]) == 1


@pytest.mark.parametrize(
    ("params", "field"), [({"status": "lost"}, "status"), ({"limit": 0}, "limit"), ({"since": "yesterday"}, "since")]
)
async def test_bad_filters_are_problems_naming_the_field(client, auth, params, field):
    r = await client.get("/v1/deliveries", params=params, headers=auth.operator())
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "validation_failed" and [e["field"] for e in r.json()["errors"]] == [field]


async def test_resending_a_sent_delivery_is_refused(client, auth, world):
    r = await client.post(f"/v1/deliveries/{world['sms_delivery']}/resend", headers=auth.operator())
    assert r.status_code == 409 and r.json()["code"] == "not_resendable" and r.json()["current_status"] == "sent"
    assert (await client.post(f"/v1/deliveries/{uuid.uuid4()}/resend", headers=auth.operator())).status_code == 404


async def test_templates_and_previews(client, auth):
    listing = (await client.get("/v1/templates", headers=auth.operator())).json()
    assert {"name": "invitation", "channels": ["email"], "locales": ["tr", "en"]} in listing
    email = (
        await client.get("/v1/templates/invitation/preview", params={"locale": "en"}, headers=auth.operator())
    ).json()
    assert email["email"]["subject"] == "Your e-signature (NES) application invitation"
    assert "SAMPLEPASS23" in email["email"]["text"] and email["sms"] is None
    sms = (
        await client.get("/v1/templates/expiry_warning/preview", params={"channel": "sms"}, headers=auth.operator())
    ).json()
    assert sms["sms"]["encoding"] == "gsm7-turkish" and sms["sms"]["segments"] == 1 and "Gülşen" in sms["sms"]["text"]
    for path, params in [
        ("/v1/templates/nope/preview", {}),
        ("/v1/templates/invitation/preview", {"channel": "sms"}),
        ("/v1/templates/invitation/preview", {"locale": "de"}),
    ]:
        r = await client.get(path, params=params, headers=auth.operator())
        assert r.status_code == 404 and r.json()["code"] == "template_not_found"


async def test_a_dead_letter_whose_message_was_removed_is_listed_and_cannot_be_replayed(client, auth, runtime):
    """Past DEAD_LETTERS_KEEP_DAYS the retention worker empties the payload (tests/esign/test_retention.py):
    the operator still sees what failed and when, and a replay is refused with its own code."""
    dl = runtime.definition.tables.dead_letters
    kept, removed = uuid.uuid4(), uuid.uuid4()
    async with runtime.session_factory() as s, s.begin():
        await s.execute(
            sa.insert(dl),
            [
                {
                    "id": letter,
                    "consumer": APPLICATIONS_CONSUMER,
                    "subject": "applications.form.completed",
                    "event_id": uuid.uuid4(),
                    "payload": payload,
                    "error": "RuntimeError: down",
                    "deliveries": 6,
                }
                for letter, payload in ((kept, b"not an envelope"), (removed, PAYLOAD_REMOVED))
            ],
        )
    letters = (await client.get("/v1/dead-letters/notifications", headers=auth.operator())).json()
    shown = {letter["id"]: letter["payload_removed"] for letter in letters}
    assert shown[str(kept)] is False and shown[str(removed)] is True
    r = await client.post(f"/v1/dead-letters/notifications/{removed}/replay", headers=auth.operator())
    assert r.status_code == 409 and r.json()["code"] == "payload_removed"
    async with runtime.session_factory() as s, s.begin():
        await s.execute(sa.delete(dl).where(dl.c.id.in_([kept, removed])))  # leave no letters to other tests

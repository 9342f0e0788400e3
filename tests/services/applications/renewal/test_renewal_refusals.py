"""Every refusal of the card sign-in and of the e-approval, each with its stable code, and
nothing stored on a refusal. The test PKI (esign/local_ca.py) makes one certificate per fault;
software keys stand in for the card (the server's checks are what is tested here)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import sqlalchemy as sa

from esign.db import make_engine
from esign.local_ca import LocalCA
from services.applications.app import create_app
from tests.support.applications import make_tckn
from tests.support.renewal import (
    ORIGIN,
    Card,
    challenge,
    holder_session,
    new_key,
    prepare,
    produced_holders,
    sign_in,
)
from tests.support.services import asgi_client, running


@pytest.fixture(scope="module")
async def holders(flow_module):
    return await produced_holders(flow_module.flow, flow_module.ca, 12, base=2000)


@pytest.fixture(scope="module")
async def far_holder(flow_module):
    """Whose certificate ends in 200 days: outside the 90-day window."""
    (holder,) = await produced_holders(flow_module.flow, flow_module.ca, 1, days_left=200, base=2100)
    return holder


@pytest.fixture(scope="module")
async def db(applications_settings):
    engine = make_engine(applications_settings.database_url.get_secret_value())
    yield engine
    await engine.dispose()


async def _stored(db) -> tuple[int, int]:
    async with db.connect() as c:
        renewals = (await c.execute(sa.text("select count(*) from renewals"))).scalar_one()
        apps = (await c.execute(sa.text("select count(*) from applications where kind = 'renewal'"))).scalar_one()
    return renewals, apps


def _reissued(ca: LocalCA, holder, **changes) -> Card:
    """A certificate like the holder's, with one thing changed."""
    key = new_key()
    options = {
        "full_name": holder.full_name,
        "tckn": holder.tckn,
        "serial": holder.serial,
        "not_before": holder.not_after - timedelta(days=1000),
        "not_after": holder.not_after,
    }
    options.update(changes)
    return Card(key, ca.issue_holder(key.public_key(), **options))


async def _refused(client, db, card: Card, status: int, code: str) -> dict:
    before = await _stored(db)
    r = await sign_in(client, card)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await _stored(db) == before, "a refused sign-in stored something"
    return r.json()


async def test_certificate_faults_are_refused_with_their_code(client, db, holders, far_holder, test_ca, scratch_dir):
    now = holders[0].not_after - timedelta(days=30)
    await _refused(
        client, db, _reissued(test_ca, holders[0], not_after=now - timedelta(days=1)), 403, "certificate_expired"
    )
    await _refused(
        client, db, _reissued(test_ca, holders[1], not_before=now + timedelta(days=2)), 403, "certificate_not_yet_valid"
    )
    revoked = _reissued(test_ca, holders[2])
    test_ca.revoke(revoked.certificate)
    await _refused(client, db, revoked, 403, "certificate_revoked")
    other_ca = LocalCA.create(scratch_dir / "untrusted-ca", label="başka")
    await _refused(client, db, _reissued(other_ca, holders[3]), 403, "certificate_untrusted")
    await _refused(client, db, _reissued(test_ca, holders[4], non_repudiation=False), 403, "certificate_key_usage")
    await _refused(client, db, _reissued(test_ca, holders[5], serial=0x5EED0001), 403, "certificate_unknown")
    await _refused(
        client, db, _reissued(test_ca, holders[6], tckn=make_tckn(77777)), 403, "certificate_subject_mismatch"
    )
    body = await _refused(client, db, far_holder.card, 409, "renewal_window_not_open")
    opens = (far_holder.not_after - timedelta(days=90)).date().isoformat()
    assert body["window_opens_on"] == opens
    assert body["detail"].startswith(f"Yenileme {opens} tarihinde")  # Turkish unless asked otherwise


async def test_the_challenge_is_single_use_short_lived_and_bound_to_the_origin(client, db, holders, applications_clock):
    card = holders[7].card
    r = await client.post("/v1/renewal/challenges", json={}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["code"] == "origin_mismatch"
    r = await client.post("/v1/renewal/challenges", json={}, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.status_code == 403 and r.json()["code"] == "origin_mismatch"
    assert r.json()["detail"] == "This request does not come from the renewal page's origin."

    c = await challenge(client)
    to_sign = base64.b64decode(c["to_sign"])
    assert len(to_sign) == 64
    body = {"challenge_id": c["challenge_id"], "certificate": card.b64, "mechanism": card.mechanism}
    before = await _stored(db)
    r = await client.post("/v1/renewal/sessions", json={**body, "signature": card.sign(b"other bytes")})
    assert r.status_code == 401 and r.json()["code"] == "signature_invalid"
    # The failed attempt spent the challenge: even the right signature is refused now.
    r = await client.post("/v1/renewal/sessions", json={**body, "signature": card.sign(to_sign)})
    assert r.status_code == 401 and r.json()["code"] == "challenge_invalid"
    assert await _stored(db) == before

    c = await challenge(client)
    applications_clock.offset = timedelta(minutes=5, seconds=1)
    try:
        r = await client.post(
            "/v1/renewal/sessions",
            json={**body, "challenge_id": c["challenge_id"], "signature": card.sign(base64.b64decode(c["to_sign"]))},
        )
    finally:
        applications_clock.offset = timedelta()
    assert r.status_code == 401 and r.json()["code"] == "challenge_invalid"

    # A signature by another key over the right bytes.
    c = await challenge(client)
    impostor = Card(new_key(), card.certificate)
    r = await client.post(
        "/v1/renewal/sessions",
        json={**body, "challenge_id": c["challenge_id"], "signature": impostor.sign(base64.b64decode(c["to_sign"]))},
    )
    assert r.status_code == 401 and r.json()["code"] == "signature_invalid"
    assert await _stored(db) == before


async def test_nothing_personal_before_possession(client, holders):
    r = await client.get("/v1/renewal")
    assert r.status_code == 401
    c = await challenge(client)
    assert set(c) == {"challenge_id", "to_sign", "mechanisms", "expires_at"}


async def _finish(client, headers, preparation_id, signature: str) -> httpx.Response:
    return await client.post(
        "/v1/renewal/approval", json={"preparation_id": preparation_id, "signature": signature}, headers=headers
    )


async def test_the_prepared_signature_is_single_use_and_exact(client, holders, applications_clock, db):
    card = holders[8].card
    headers = await holder_session(client, card)

    other = Card(new_key(), card.certificate)
    r = await client.post(
        "/v1/renewal/approval/preparations",
        json={"certificate": holders[9].card.b64, "mechanism": holders[9].card.mechanism},
        headers=headers,
    )
    assert r.status_code == 403 and r.json()["code"] == "certificate_mismatch"

    p = await prepare(client, card, headers)
    attributes = base64.b64decode(p["to_sign"])
    assert attributes[0] == 0x31  # the DER SET OF, as the card must sign it
    r = await _finish(client, headers, p["preparation_id"], card.sign(attributes + b"x"))
    assert r.status_code == 422 and r.json()["code"] == "signature_invalid"
    r = await _finish(client, headers, p["preparation_id"], card.sign(attributes))
    assert r.status_code == 409 and r.json()["code"] == "preparation_invalid"  # spent by the failed attempt

    p = await prepare(client, card, headers)
    r = await _finish(client, headers, p["preparation_id"], other.sign(base64.b64decode(p["to_sign"])))
    assert r.status_code == 422 and r.json()["code"] == "signature_invalid"

    p = await prepare(client, card, headers)
    applications_clock.offset = timedelta(minutes=5, seconds=1)
    try:
        r = await _finish(client, headers, p["preparation_id"], card.sign(base64.b64decode(p["to_sign"])))
    finally:
        applications_clock.offset = timedelta()
    assert r.status_code == 409 and r.json()["code"] == "preparation_invalid"

    # The PDF the attributes were computed over is changed in storage: the card's signature is
    # right, but the finished document does not validate.
    p = await prepare(client, card, headers)
    async with db.begin() as c:
        pdf = bytearray(
            (
                await c.execute(
                    sa.text("select pdf from renewal_preparations where id = :id"), {"id": p["preparation_id"]}
                )
            ).scalar_one()
        )
        inside_first_stream = pdf.index(b"stream\n") + 20  # page content, inside the signed byte range
        pdf[inside_first_stream] ^= 0xFF
        await c.execute(
            sa.text("update renewal_preparations set pdf = :pdf where id = :id"),
            {"pdf": bytes(pdf), "id": p["preparation_id"]},
        )
    r = await _finish(client, headers, p["preparation_id"], card.sign(base64.b64decode(p["to_sign"])))
    assert r.status_code == 422 and r.json()["code"] == "signature_invalid", r.text

    async with db.connect() as c:
        status = (
            await c.execute(
                sa.text(
                    "select status from applications a join renewals r on r.application_id = a.id "
                    "where r.certificate_fingerprint = encode(sha256(:der), 'hex')"
                ),
                {"der": card.der},
            )
        ).scalar_one()
    assert status == "draft"

    # Replayed: the first finish works, the same preparation again is refused.
    p = await prepare(client, card, headers)
    signature = card.sign(base64.b64decode(p["to_sign"]))
    r = await _finish(client, headers, p["preparation_id"], signature)
    assert r.status_code == 200 and r.json()["status"] == "e_approved", r.text
    r = await _finish(client, headers, p["preparation_id"], signature)
    assert r.status_code == 409


async def test_a_preparation_of_another_renewal_is_refused(client, holders):
    a, b = holders[10].card, holders[11].card
    headers_a, headers_b = await holder_session(client, a), await holder_session(client, b)
    p = await prepare(client, a, headers_a)
    r = await _finish(client, headers_b, p["preparation_id"], a.sign(base64.b64decode(p["to_sign"])))
    assert r.status_code == 409 and r.json()["code"] == "preparation_invalid"


async def test_prepare_on_one_replica_finish_on_another(applications_settings, applications_clock, flow_module, client):
    (holder,) = await produced_holders(flow_module.flow, flow_module.ca, 1, base=2200)
    replica = create_app(
        applications_settings.model_copy(update={"run_background_workers": False}), clock=applications_clock
    )
    async with running(replica), asgi_client(replica, ORIGIN) as other:
        headers = await holder_session(client, holder.card)
        p = await prepare(client, holder.card, headers)
        r = await _finish(other, headers, p["preparation_id"], holder.card.sign(base64.b64decode(p["to_sign"])))
        assert r.status_code == 200 and r.json()["status"] == "e_approved", r.text


async def test_the_public_renewal_endpoints_are_rate_limited_per_client(
    client, applications_settings, applications_clock
):
    """Through a trusted proxy, each client address has its own budget across replicas."""
    limit, proxies = applications_settings.renewal_public_limit, applications_settings.trusted_proxies
    applications_settings.renewal_public_limit, applications_settings.trusted_proxies = 3, ["127.0.0.0/8"]
    applications_clock.frozen = datetime.now(timezone.utc).replace(
        second=1, microsecond=0
    )  # all four calls in one window
    try:
        here, there = {"X-Forwarded-For": "203.0.113.7", "Origin": ORIGIN}, {"X-Forwarded-For": "203.0.113.8"}
        answers = [(await client.post("/v1/renewal/challenges", json={}, headers=here)).status_code for _ in range(3)]
        assert answers == [201, 201, 201]
        refused = await client.post("/v1/renewal-forms/view", json={"token": "x" * 43}, headers=here)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        other = await client.post("/v1/renewal-forms/view", json={"token": "x" * 43}, headers=there)
        assert other.status_code == 404
    finally:
        applications_settings.renewal_public_limit, applications_settings.trusted_proxies = limit, proxies
        applications_clock.frozen = None

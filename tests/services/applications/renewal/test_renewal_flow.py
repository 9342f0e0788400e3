"""The renewal workflow over HTTP, from the card sign-in to the renewed certificate's production
(real PostgreSQL and NATS; software keys stand in for the card: these tests are about the
server, tests/.../test_renewal_softhsm.py signs with a real PKCS#11 token)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nats.js.api import ConsumerConfig, DeliverPolicy

from esign import sealing
from esign.certificate_serial import serial_text
from tests.support.applications import NOTIFICATIONS_PRIVATE
from tests.support.renewal import e_approved, holder_session, produced_holders, sign_in


@pytest.fixture(scope="module")
async def holders(flow_module):
    return await produced_holders(flow_module.flow, flow_module.ca, 3, base=1000)


async def _next_event(sub, subject_type: str, application_id: str) -> dict:
    while True:
        msg = await sub.next_msg(timeout=20)
        envelope = json.loads(msg.data)
        if envelope["type"] == subject_type and envelope["data"]["application_id"] == application_id:
            return envelope["data"]


async def test_a_holder_renews_from_sign_in_to_production(client, auth, nc, holders):
    holder = holders[0]
    js = nc.jetstream()
    sub = await js.subscribe(
        "applications.renewal.>",
        stream="APPLICATIONS",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
        ordered_consumer=True,
    )
    headers = await holder_session(client, holder.card)

    r = await client.get("/v1/renewal", headers=headers)
    assert r.status_code == 200, r.text
    renewal = r.json()
    assert renewal["status"] == "draft" and renewal["kind"] == "renewal"
    assert renewal["tckn_masked"] != holder.tckn and renewal["tckn_masked"][:3] == holder.tckn[:3]
    assert renewal["old_certificate"]["serial"] == serial_text(holder.serial)
    assert renewal["new_not_before"] == renewal["old_certificate"]["not_after"]
    assert renewal["delivery_address"]["city"] == "Ankara"

    r = await client.patch("/v1/renewal", json={"title": "Doç. Dr.", "mobile": "05321234567"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Doç. Dr."
    r = await client.patch("/v1/renewal", json={"first_name": "Başka"}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "first_name"
    r = await client.patch("/v1/renewal", json={"delivery_address": None}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "required"
    # The holder's token opens this renewal and nothing else.
    for path in ("/v1/applicant/application", f"/v1/applications/{holder.application_id}", "/v1/renewals"):
        assert (await client.get(path, headers=headers)).status_code == 403, path

    # Signing in again resumes the same renewal.
    again = await sign_in(client, holder.card)
    assert again.status_code == 201 and again.json()["renewal_id"] == renewal["id"]

    approved = await e_approved(client, holder.card, headers)
    assert approved["status"] == "e_approved" and approved["e_approved_at"]
    event = await _next_event(sub, "applications.renewal.e_approved", renewal["id"])
    assert event["certificate_serial"] == serial_text(holder.serial)
    assert event["renewed_application_id"] == holder.application_id
    r = await client.patch("/v1/renewal", json={"title": "Prof. Dr."}, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "renewal_not_editable"
    r = await client.get("/v1/renewal/approval.pdf", headers=headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")

    officer = auth.officer(holder.institution_id)
    r = await client.get("/v1/renewals", params={"status": "e_approved"}, headers=officer)
    assert [i["id"] for i in r.json()["items"]] == [renewal["id"]]
    r = await client.post(
        f"/v1/institutions/{holder.institution_id}/renewal-batches",
        json={"renewal_ids": [renewal["id"]]},
        headers=officer,
    )
    assert r.status_code == 201, r.text
    assert [e["application_id"] for e in r.json()["entries"]] == [renewal["id"]]
    filed = await _next_event(sub, "applications.renewal.filed", renewal["id"])
    first_secret = sealing.unseal(NOTIFICATIONS_PRIVATE, filed["sealed_form_secret"])
    assert first_secret["link"].endswith(f"#token={first_secret['token']}")
    assert first_secret["token"] not in json.dumps(filed)

    # Re-sent: the first link is dead, the new one works.
    r = await client.post(f"/v1/renewals/{renewal['id']}/renewal-form/resend", headers=officer)
    assert r.status_code == 202, r.text
    resent = await _next_event(sub, "applications.renewal.filed", renewal["id"])
    secret = sealing.unseal(NOTIFICATIONS_PRIVATE, resent["sealed_form_secret"])
    r = await client.post("/v1/renewal-forms/view", json={"token": first_secret["token"]})
    assert r.status_code == 404 and r.json()["code"] == "renewal_form_link_invalid"
    r = await client.post("/v1/renewal-forms/view", json={"token": secret["token"]})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Doç. Dr." and r.json()["status"] == "filed"
    r = await client.post("/v1/renewal-forms/approval", json={"token": secret["token"]})
    assert r.status_code == 200 and r.json() == {"status": "at_ca"}
    await _next_event(sub, "applications.renewal.form_approved", renewal["id"])
    r = await client.post("/v1/renewal-forms/approval", json={"token": secret["token"]})
    assert r.status_code == 404  # single use

    operator = auth.operator()
    r = await client.get("/v1/applications", params={"status": "at_ca"}, headers=operator)
    assert renewal["id"] in {a["id"] for a in r.json()["items"] if a["kind"] == "renewal"}
    r = await client.get(f"/v1/applications/{renewal['id']}/e-approval", headers=operator)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["intact"] and report["trusted"] and report["covers_whole_file"] and report["key_usage_ok"]
    assert report["signer_serial"] == format(holder.serial, "X")
    r = await client.get(f"/v1/applications/{renewal['id']}/e-approval.pdf", headers=operator)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")

    production = {"certificate_serial": serial_text(holder.serial), "not_after": "2032-01-01T00:00:00+03:00"}
    r = await client.post(f"/v1/applications/{renewal['id']}/production", json=production, headers=operator)
    assert r.status_code == 422 and r.json()["code"] == "serial_reused"
    old_key = base64.b64encode(
        holder.card.certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ).decode()
    production["certificate_serial"] = "AB:CD:EF:01"
    r = await client.post(
        f"/v1/applications/{renewal['id']}/production", json={**production, "public_key": old_key}, headers=operator
    )
    assert r.status_code == 422 and r.json()["code"] == "public_key_reused"
    r = await client.post(f"/v1/applications/{renewal['id']}/production", json=production, headers=operator)
    assert r.status_code == 200, r.text
    produced = r.json()
    assert produced["status"] == "produced"
    assert produced["certificate"]["not_before"][:10] == renewal["old_certificate"]["not_after"][:10]

    # Renewed: the old certificate cannot be renewed again.
    r = await sign_in(client, holder.card)
    assert r.status_code == 409 and r.json()["code"] == "certificate_already_renewed"
    await sub.unsubscribe()

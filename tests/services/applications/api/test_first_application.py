"""The first-application workflow through the HTTP API, on real PostgreSQL and NATS."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.support.applications import last_name, person


async def test_from_staff_list_to_produced_certificate(flow, client, auth):
    institution = await flow.institution()
    invitations = await flow.invited(institution, [person(1), person(2)])
    assert len(invitations) == 2
    inv = invitations["kisi1@ornek.edu.tr"]
    assert inv.link.endswith(f"#token={inv.token}")

    applicant = await flow.completed(inv)
    mine = (await client.get("/v1/applicant/application", headers=applicant)).json()
    assert mine["status"] == "form_completed"
    assert mine["person"]["tckn_masked"].count("*") == 6

    pdf = await client.get("/v1/applicant/application/form.pdf", headers=applicant)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert last_name(1) in text and "Ayşe" in text

    await flow.received(institution, inv.application_id)
    batch = await flow.forwarded(institution, [inv.application_id])
    assert [e["application_id"] for e in batch["entries"]] == [inv.application_id]

    produced = await flow.produced(inv.application_id)
    assert produced["status"] == "produced"
    history = (
        await client.get(f"/v1/applications/{inv.application_id}/history", headers=auth.officer(institution))
    ).json()
    assert [h["to_status"] for h in history] == [
        "invited",
        "form_in_progress",
        "form_completed",
        "signed_form_received",
        "forwarded",
        "produced",
    ]


async def test_the_staff_list_import_opens_each_audit_trail(flow, client, auth):
    # The roster import writes its audit rows in bulk, from the Transition Application.invite records.
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(3)]))["kisi3@ornek.edu.tr"]
    history = (
        await client.get(f"/v1/applications/{inv.application_id}/history", headers=auth.officer(institution))
    ).json()
    assert [(h["from_status"], h["to_status"], h["actor_role"], h["reason"]) for h in history] == [
        ("new", "invited", "institution_officer", "roster import")
    ]

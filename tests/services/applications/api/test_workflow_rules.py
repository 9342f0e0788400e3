"""The rules of the workflow as users meet them: bad files, wrong passwords, incomplete forms,
illegal steps, the courier's events (in order, duplicated and out of order)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from esign.db import make_engine
from esign.events import (
    ExpiryWarned,
    ShipmentDelivered,
    ShipmentHandedToCourier,
    ShipmentReturned,
)
from tests.support.applications import COMPLETE_FORM, make_tckn, person, roster_csv
from tests.support.events import publish


def problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["type"] == f"urn:esign:problem:{code}" and body["status"] == status
    return body


async def test_a_file_with_one_bad_row_is_rejected_whole(flow, client, auth):
    institution = await flow.institution()
    bad = person(2) | {"tckn": "17291716050", "email": "not-an-email", "mobile": "0312 210 00 00"}
    r = await flow.upload(institution, [person(1), bad, person(3) | {"tckn": person(1)["tckn"]}])
    body = problem(r, 422, "roster_invalid")
    fields = {e["field"]: e["code"] for e in body["errors"]}
    assert fields["rows.3.tckn"] == "tckn_checksum"
    assert fields["rows.3.email"] == "email_invalid"
    assert fields["rows.3.mobile"] == "mobile_invalid"
    assert fields["rows.4.tckn"] == "duplicate_in_file"
    assert "17291716050" not in r.text  # the number is never echoed back
    assert await flow.applications(institution) == []  # nothing stored


async def test_unreadable_files_get_clear_problems(flow, client, auth):
    institution = await flow.institution()
    headers = {**auth.officer(institution), "Content-Type": "text/csv"}
    url = f"/v1/institutions/{institution}/roster"
    problem(await client.post(url, content="tckn;ad\n".encode("utf-16"), headers=headers), 400, "roster_encoding")
    problem(await client.post(url, content=b"", headers=headers), 400, "roster_empty")
    body = problem(
        await client.post(url, content=b"tckn;first_name\n1;2\n", headers=headers), 400, "roster_missing_columns"
    )
    assert "email" in body["missing_columns"]


async def test_known_people_are_not_duplicated(flow, client, auth):
    institution = await flow.institution()
    first = await flow.upload(institution, [person(11), person(12)])
    assert first.json()["created"] == 2
    again = await flow.upload(institution, [person(12), person(13)])
    assert again.json() | {"already_known_lines": again.json()["already_known_lines"]} == {
        "received": 2,
        "created": 1,
        "already_known": 1,
        "already_known_lines": [2],
        "invitations": "pending",
    }
    assert len(await flow.applications(institution)) == 3
    # Nobody new: no invitation is on its way, and the answer says so.
    nobody_new = await flow.upload(institution, [person(11), person(13)])
    assert nobody_new.status_code == 200, nobody_new.text
    assert (nobody_new.json()["created"], nobody_new.json()["invitations"]) == (0, "none")


async def test_turkish_headers_and_comma_separated_files(flow, client, auth):
    institution = await flow.institution()
    text = (
        "TC Kimlik No,Ad,Soyad,Doğum Tarihi,Unvan,Birim,E-posta,Cep Telefonu\n"
        f"{make_tckn(21)},Çağrı,Işıkoğlu,12.04.1985,Öğr. Gör.,Sağlık Kültür,cagri@ornek.edu.tr,+90 532 111 22 33\n"
    )
    r = await client.post(
        f"/v1/institutions/{institution}/roster",
        content=text.encode(),
        headers={**auth.officer(institution), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    [app] = await flow.applications(institution)
    assert app["person"]["first_name"] == "Çağrı" and app["person"]["last_name"] == "Işıkoğlu"
    assert app["person"]["mobile"] == "+905321112233"
    assert app["person"]["birth_date_masked"] == "**.**.1985"


async def test_five_wrong_passwords_lock_the_invitation(flow, client):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(31)]))["kisi31@ornek.edu.tr"]
    for attempt in range(4):
        body = problem(
            await client.post("/v1/applicant/sessions", json={"token": inv.token, "password": "wrong-one"}),
            401,
            "invalid_credentials",
        )
        assert body["attempts_left"] == 4 - attempt
    r = await client.post("/v1/applicant/sessions", json={"token": inv.token, "password": "wrong-one"})
    problem(r, 423, "invitation_locked")
    assert int(r.headers["retry-after"]) > 0
    # even the right password is refused while locked
    problem(
        await client.post("/v1/applicant/sessions", json={"token": inv.token, "password": inv.password}),
        423,
        "invitation_locked",
    )


async def test_unknown_token_looks_like_a_wrong_password(client):
    body = problem(
        await client.post("/v1/applicant/sessions", json={"token": "x" * 43, "password": "whatever"}),
        401,
        "invalid_credentials",
    )
    assert "attempts_left" not in body


async def test_reissued_invitation_replaces_the_old_one(flow, client, auth):
    institution = await flow.institution()
    old = (await flow.invited(institution, [person(41)]))["kisi41@ornek.edu.tr"]
    r = await client.post(f"/v1/applications/{old.application_id}/invitation", headers=auth.officer(institution))
    assert r.status_code == 202 and r.json()["times_issued"] == 2
    new = (await flow.inbox.collect({old.application_id}))[old.application_id]
    assert new.token != old.token
    problem(
        await client.post("/v1/applicant/sessions", json={"token": old.token, "password": old.password}),
        401,
        "invalid_credentials",
    )
    assert await flow.sign_in(new)


async def test_form_fields_are_validated_one_by_one_and_identity_is_read_only(flow, client):
    institution = await flow.institution()
    applicant = await flow.sign_in((await flow.invited(institution, [person(51)]))["kisi51@ornek.edu.tr"])
    r = await client.patch(
        "/v1/applicant/application/form",
        headers=applicant,
        json={
            "tckn": "10000000146",
            "delivery_address": {"line1": "x", "district": "Çankaya", "city": "Ankara", "postal_code": "6800"},
            "validity_years": 4,
            "mobile": "123",
        },
    )
    fields = {e["field"]: e["code"] for e in problem(r, 422, "form_invalid")["errors"]}
    assert fields == {
        "tckn": "read_only",
        "delivery_address.postal_code": "postal_code_invalid",
        "validity_years": "choice_invalid",
        "mobile": "mobile_invalid",
    }
    mine = (await client.get("/v1/applicant/application", headers=applicant)).json()
    assert mine["status"] == "invited"  # nothing saved


async def test_the_form_cannot_be_completed_without_publication_consent(flow, client):
    institution = await flow.institution()
    applicant = await flow.sign_in((await flow.invited(institution, [person(61)]))["kisi61@ornek.edu.tr"])
    await client.patch(
        "/v1/applicant/application/form", headers=applicant, json=COMPLETE_FORM | {"publish_consent": False}
    )
    await client.put("/v1/applicant/application/security-word", json={"security_word": "Kelebek42"}, headers=applicant)
    body = problem(await client.post("/v1/applicant/application/completion", headers=applicant), 422, "form_incomplete")
    [consent] = [e for e in body["errors"] if e["field"] == "publish_consent"]
    assert consent["code"] == "publish_consent_required" and "doğrulanabilir" in consent["message"]
    problem(await client.get("/v1/applicant/application/form.pdf", headers=applicant), 409, "form_not_completed")


async def test_illegal_steps_are_409_and_batches_are_all_or_nothing(flow, client, auth):
    institution = await flow.institution()
    invs = await flow.invited(institution, [person(71), person(72)])
    done, not_done = invs["kisi71@ornek.edu.tr"], invs["kisi72@ornek.edu.tr"]
    await flow.completed(done)
    await flow.received(institution, done.application_id)
    # the CA cannot produce what was never forwarded
    r = await client.post(
        f"/v1/applications/{done.application_id}/production",
        headers=auth.operator(),
        json={"certificate_serial": "01", "not_before": "2026-01-01T00:00:00Z", "not_after": "2029-01-01T00:00:00Z"},
    )
    body = problem(r, 409, "illegal_transition")
    assert body["current_status"] == "signed_form_received" and body["requested_status"] == "produced"
    # a batch with one unready application forwards nothing
    r = await client.post(
        f"/v1/institutions/{institution}/batches",
        headers=auth.officer(institution),
        json={"application_ids": [done.application_id, not_done.application_id]},
    )
    body = problem(r, 409, "not_ready_to_forward")
    assert body["not_ready"] == [{"application_id": not_done.application_id, "status": "invited"}]
    still = (await client.get(f"/v1/applications/{done.application_id}", headers=auth.operator())).json()
    assert still["status"] == "signed_form_received"


async def test_rejected_form_goes_back_to_the_applicant(flow, client, auth):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(81)]))["kisi81@ornek.edu.tr"]
    applicant = await flow.completed(inv)
    await flow.received(institution, inv.application_id)
    await flow.forwarded(institution, [inv.application_id])
    r = await client.post(
        f"/v1/applications/{inv.application_id}/rejection", headers=auth.operator(), json={"reason": "Islak imza eksik"}
    )
    assert r.json()["status"] == "rejected" and r.json()["rejection_reason"] == "Islak imza eksik"
    r = await client.patch("/v1/applicant/application/form", headers=applicant, json={"registry_number": "A-2048"})
    assert r.json()["status"] == "form_in_progress"


async def test_officer_views_filter_count_and_find_who_has_not_filled(flow, client, auth):
    institution = await flow.institution()
    invs = await flow.invited(institution, [person(91), person(92), person(93)])
    await flow.completed(invs["kisi91@ornek.edu.tr"])
    officer = auth.officer(institution)
    summary = (await client.get("/v1/applications/summary", headers=officer)).json()
    assert summary["total"] == 3 and summary["by_status"]["form_completed"] == 1 and summary["form_not_filled"] == 2
    pending = (await client.get("/v1/applications", params={"form_not_filled": True}, headers=officer)).json()
    assert {a["person"]["email"] for a in pending["items"]} == {"kisi92@ornek.edu.tr", "kisi93@ornek.edu.tr"}
    completed = (await client.get("/v1/applications", params={"status": "form_completed"}, headers=officer)).json()
    assert completed["total"] == 1


async def test_listing_filters_combine_and_each_request_gets_its_own_values(flow, client, auth):
    # The listing's statement is built once per combination of filters (a hot path): the same
    # combination asked with other values must answer for those values, not the first ones.
    institution, other = await flow.institution(), await flow.institution()
    invs = await flow.invited(institution, [person(n) for n in (141, 142, 143)])
    await flow.invited(other, [person(144)])
    await flow.completed(invs["kisi141@ornek.edu.tr"])
    officer = auth.officer(institution)

    async def emails(headers, **params):
        r = await client.get("/v1/applications", params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == len(body["items"])
        return {a["person"]["email"] for a in body["items"]}

    assert await emails(officer, q="KISI142") == {"kisi142@ornek.edu.tr"}
    assert await emails(officer, q="kisi143") == {"kisi143@ornek.edu.tr"}
    # % and _ are dropped, not wildcards
    assert await emails(officer, q="%kisi14_") == {f"kisi{n}@ornek.edu.tr" for n in (141, 142, 143)}
    assert await emails(officer, q="kisi144") == set()  # another institution's person
    assert await emails(officer, status="form_completed", q="kisi14") == {"kisi141@ornek.edu.tr"}
    assert await emails(officer, status="invited", q="kisi14") == {"kisi142@ornek.edu.tr", "kisi143@ornek.edu.tr"}
    assert await emails(officer, status=["invited", "form_completed"], q="kisi141") == {"kisi141@ornek.edu.tr"}
    assert await emails(officer, form_not_filled=True, q="kisi14") == {"kisi142@ornek.edu.tr", "kisi143@ornek.edu.tr"}
    operator = auth.operator()
    assert await emails(operator, institution_id=str(institution), q="kisi14") == {
        f"kisi{n}@ornek.edu.tr" for n in (141, 142, 143)
    }
    assert await emails(operator, institution_id=str(other), q="kisi14") == {"kisi144@ornek.edu.tr"}
    page = (await client.get("/v1/applications", params={"limit": 2, "offset": 2}, headers=officer)).json()
    assert page["total"] == 3 and len(page["items"]) == 1


async def publish_tracking(nc, event, event_id=None) -> None:
    await publish(nc.jetstream(), event, "tracking", event_id=event_id)


async def wait_for_status(client, auth, application_id: str, status: str, timeout: float = 15) -> dict:
    async def poll():
        while True:
            app = (await client.get(f"/v1/applications/{application_id}", headers=auth.operator())).json()
            if app["status"] == status:
                return app
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), timeout)


async def test_courier_events_move_the_application_and_never_backwards(flow, client, auth, nc):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(101)]))["kisi101@ornek.edu.tr"]
    await flow.completed(inv)
    await flow.received(institution, inv.application_id)
    await flow.forwarded(institution, [inv.application_id])
    await flow.produced(inv.application_id)
    t0 = datetime.now(timezone.utc)
    common = dict(
        shipment_id=uuid.uuid4(),
        application_id=uuid.UUID(inv.application_id),
        tracking_number="YK123456789",
        carrier="simulated",
    )
    handed = ShipmentHandedToCourier(**common, occurred_at=t0)
    handed_id = uuid.uuid4()
    await publish_tracking(nc, handed, handed_id)
    await wait_for_status(client, auth, inv.application_id, "shipped")
    await publish_tracking(nc, ShipmentDelivered(**common, occurred_at=t0 + timedelta(days=2)))
    delivered = await wait_for_status(client, auth, inv.application_id, "delivered")
    # a late "returned" from before the delivery, and the same hand-over again: both change nothing
    await publish_tracking(nc, ShipmentReturned(**common, occurred_at=t0 + timedelta(days=1)))
    await publish_tracking(nc, handed, uuid.uuid4())
    await asyncio.sleep(1.0)
    app = (await client.get(f"/v1/applications/{inv.application_id}", headers=auth.operator())).json()
    assert app["status"] == "delivered" and app["shipment"] == delivered["shipment"]
    history = (await client.get(f"/v1/applications/{inv.application_id}/history", headers=auth.operator())).json()
    assert [h["to_status"] for h in history][-2:] == ["shipped", "delivered"]
    assert history[-1]["actor_role"] == "courier"


async def test_a_browser_form_upload_works_and_huge_files_are_refused(flow, client, auth, applications_settings):
    institution = await flow.institution()
    headers = auth.officer(institution)
    url = f"/v1/institutions/{institution}/roster"
    r = await client.post(
        url, files={"file": ("personel.csv", roster_csv([person(301)]), "application/vnd.ms-excel")}, headers=headers
    )
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    huge = b"x" * (applications_settings.roster_max_bytes + 1)
    problem(
        await client.post(url, content=huge, headers={**headers, "Content-Type": "text/csv"}), 413, "roster_too_large"
    )
    problem(await client.post(url, files={"other": ("a.csv", b"x")}, headers=headers), 400, "roster_missing_file")


async def test_a_form_completed_for_renewal_records_the_renewal_for_the_holder(flow, client, auth, applications_db):
    institution = await flow.institution()
    invs = await flow.invited(institution, [person(111), person(112)])
    renewing, first_time = invs["kisi111@ornek.edu.tr"], invs["kisi112@ornek.edu.tr"]
    headers = await flow.sign_in(renewing)
    r = await client.patch(
        "/v1/applicant/application/form", headers=headers, json=COMPLETE_FORM | {"prior_certificate_reason": "renewal"}
    )
    assert r.status_code == 200, r.text
    await client.put("/v1/applicant/application/security-word", json={"security_word": "Kelebek42"}, headers=headers)
    assert (await client.post("/v1/applicant/application/completion", headers=headers)).status_code == 200
    await flow.completed(first_time)

    engine = make_engine(applications_db)
    async with engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    sa.text(
                        "SELECT envelope->'data' FROM outbox WHERE envelope->>'type' = 'applications.renewal.recorded'"
                        " AND envelope->'data'->>'institution_id' = :i"
                    ),
                    {"i": institution},
                )
            )
            .scalars()
            .all()
        )
        person_id = (
            await conn.execute(
                sa.text("SELECT person_id FROM applications WHERE id = :id"), {"id": renewing.application_id}
            )
        ).scalar_one()
    await engine.dispose()
    assert [(r["application_id"], r["holder_id"]) for r in rows] == [(renewing.application_id, str(person_id))]


async def test_expiry_warnings_from_the_notifications_service_show_on_the_application_once(flow, client, auth, nc):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(121)]))["kisi121@ornek.edu.tr"]
    await flow.completed(inv)
    await flow.received(institution, inv.application_id)
    await flow.forwarded(institution, [inv.application_id])
    await flow.produced(inv.application_id)
    warned = ExpiryWarned(
        application_id=uuid.UUID(inv.application_id),
        institution_id=uuid.UUID(institution),
        holder_id=uuid.uuid4(),
        certificate_serial="5A:3F:00:11",
        not_after=datetime(2029, 1, 10, tzinfo=timezone.utc),
        days_before=40,
        warned_at=datetime(2028, 12, 1, 9, tzinfo=timezone.utc),
    )
    envelope = await publish(nc.jetstream(), warned, "notifications")
    # a relay that published it twice (same event id)
    await publish(nc.jetstream(), warned, "notifications", event_id=envelope.id)

    async def recorded():
        while not (
            r := (
                await client.get(
                    f"/v1/applications/{inv.application_id}/expiry-warnings", headers=auth.officer(institution)
                )
            ).json()
        ):
            await asyncio.sleep(0.1)
        return r

    warnings = await asyncio.wait_for(recorded(), 15)
    assert warnings == [
        {
            "certificate_serial": "5A:3F:00:11",
            "not_after": "2029-01-10T00:00:00Z",
            "days_before": 40,
            "warned_at": "2028-12-01T09:00:00Z",
        }
    ]


async def test_a_malformed_request_is_422_whatever_the_state_then_state_is_409(flow, client, auth):
    """docs/problems.md: what is wrong with the request itself is reported before what is wrong
    with the application's state, in every endpoint."""
    institution = await flow.institution()
    invs = await flow.invited(institution, [person(131), person(132)])
    invited, signed = invs["kisi131@ornek.edu.tr"], invs["kisi132@ornek.edu.tr"]
    reversed_validity = {
        "certificate_serial": "01",
        "not_before": "2029-01-01T00:00:00Z",
        "not_after": "2026-01-01T00:00:00Z",
        "card_type": "AKIS",
    }
    # An invited application has no address and is not forwarded: the reversed validity comes first.
    r = await client.post(
        f"/v1/applications/{invited.application_id}/production", headers=auth.operator(), json=reversed_validity
    )
    body = problem(r, 422, "form_invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("not_after", "validity_order")]
    # A well-formed production for it is refused for its state, not for a missing address.
    r = await client.post(
        f"/v1/applications/{invited.application_id}/production",
        headers=auth.operator(),
        json=reversed_validity | {"not_before": "2026-01-01T00:00:00Z", "not_after": "2029-01-01T00:00:00Z"},
    )
    problem(r, 409, "illegal_transition")

    # A form no longer editable: an invalid field is still a 422, a valid one the 409.
    applicant = await flow.completed(signed)
    await flow.received(institution, signed.application_id)
    r = await client.patch("/v1/applicant/application/form", headers=applicant, json={"validity_years": 4})
    assert problem(r, 422, "form_invalid")["errors"][0]["field"] == "validity_years"
    r = await client.patch("/v1/applicant/application/form", headers=applicant, json={"registry_number": "A-9"})
    problem(r, 409, "illegal_transition")
    r = await client.put("/v1/applicant/application/security-word", headers=applicant, json={"security_word": "ab"})
    problem(r, 422, "validation_failed")
    r = await client.put(
        "/v1/applicant/application/security-word", headers=applicant, json={"security_word": "Kelebek43"}
    )
    problem(r, 409, "illegal_transition")


async def test_saving_a_completed_form_says_it_reopened_it(flow, client, auth):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(141)]))["kisi141@ornek.edu.tr"]
    applicant = await flow.completed(inv)
    r = await client.patch("/v1/applicant/application/form", headers=applicant, json={"registry_number": "A-4096"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["form_reopened"]) == ("form_in_progress", True)
    assert "Complete it again" in r.json()["notice"]
    # The next save of a form already in progress reopens nothing.
    r = await client.patch("/v1/applicant/application/form", headers=applicant, json={"registry_number": "A-4097"})
    assert (r.json()["form_reopened"], r.json()["notice"]) == (False, None)
    # The security word reopens a completed form too, and says so.
    assert (await client.post("/v1/applicant/application/completion", headers=applicant)).status_code == 200
    r = await client.put(
        "/v1/applicant/application/security-word", headers=applicant, json={"security_word": "Kelebek44"}
    )
    assert (r.json()["status"], r.json()["form_reopened"]) == ("form_in_progress", True)


async def test_an_application_shows_the_institution_name_and_place_of_birth_the_form_prints(flow, client, auth):
    institution = await flow.institution()
    name = (await client.get(f"/v1/institutions/{institution}", headers=auth.operator())).json()["name"]
    inv = (await flow.invited(institution, [person(151)]))["kisi151@ornek.edu.tr"]
    applicant = await flow.sign_in(inv)
    mine = (await client.get("/v1/applicant/application", headers=applicant)).json()
    assert mine["institution_name"] == name
    assert mine["person"]["birth_place"] is None  # the list had no such column: the form leaves it blank

    # A staff list with the optional "Doğum Yeri" column: the application shows it as the form does.
    text = (
        "TC Kimlik No;Ad;Soyad;Doğum Tarihi;Doğum Yeri;Unvan;Birim;E-posta;Cep Telefonu\n"
        f"{make_tckn(152)};Elif;Şahin;03.05.1988;Kahramanmaraş;Uzman;Bilgi İşlem;elif152@ornek.edu.tr;05321112233\n"
    )
    r = await client.post(
        f"/v1/institutions/{institution}/roster",
        content=text.encode(),
        headers={**auth.officer(institution), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    listed = (await client.get("/v1/applications", headers=auth.officer(institution))).json()["items"]
    assert {a["institution_name"] for a in listed} == {name}
    assert {a["person"]["first_name"]: a["person"]["birth_place"] for a in listed}["Elif"] == "Kahramanmaraş"


async def test_expiring_soon_lists_only_certificates_that_end_within_the_days_asked(flow, client, auth):
    institution = await flow.institution()
    invs = await flow.invited(institution, [person(131), person(132), person(133)])
    soon, later, unproduced = (invs[f"kisi{n}@ornek.edu.tr"] for n in (131, 132, 133))
    now = datetime.now(timezone.utc)
    for inv, ends in ((soon, now + timedelta(days=30)), (later, now + timedelta(days=200))):
        await flow.completed(inv)
        await flow.received(institution, inv.application_id)
        await flow.forwarded(institution, [inv.application_id])
        r = await client.post(
            f"/v1/applications/{inv.application_id}/production",
            headers=auth.operator(),
            json={
                "certificate_serial": "5A:3F:00:12",
                "not_before": (ends - timedelta(days=3 * 365)).isoformat(),
                "not_after": ends.isoformat(),
            },
        )
        assert r.status_code == 200, r.text

    def ids(r):
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()["items"]}

    officer = auth.officer(institution)
    assert ids(await client.get("/v1/applications?expires_within_days=90", headers=officer)) == {soon.application_id}
    both = {soon.application_id, later.application_id}
    assert ids(await client.get("/v1/applications?expires_within_days=365", headers=officer)) == both
    assert unproduced.application_id in ids(await client.get("/v1/applications", headers=officer))
    problem(await client.get("/v1/applications?expires_within_days=0", headers=officer), 422, "validation_failed")

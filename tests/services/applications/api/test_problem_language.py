"""The applications service's own refusals in Turkish by default and in English on request: a
state conflict with its statuses named, a form's field errors, a staff list's row errors."""

from __future__ import annotations

from tests.support.applications import person


async def test_a_conflict_and_field_errors_speak_the_language_asked(flow, client, auth):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(161)]))["kisi161@ornek.edu.tr"]
    applicant = await flow.sign_in(inv)

    bad = {"delivery_address": {"line1": "x", "city": "Ankara", "postal_code": "6800"}, "validity_years": 4}
    tr = await client.patch("/v1/applicant/application/form", headers=applicant, json=bad)
    assert tr.status_code == 422 and tr.headers["content-language"] == "tr"
    messages = {e["field"]: e["message"] for e in tr.json()["errors"]}
    assert messages["delivery_address.postal_code"] == "Posta kodu 5 rakamdan oluşur."
    assert messages["validity_years"] == "Listedeki seçeneklerden birini seçin."
    en = await client.patch("/v1/applicant/application/form", headers={**applicant, "Accept-Language": "en"}, json=bad)
    assert {e["field"]: e["message"] for e in en.json()["errors"]}["delivery_address.postal_code"] == (
        "A postal code has 5 digits."
    )
    assert [e["code"] for e in en.json()["errors"]] == [e["code"] for e in tr.json()["errors"]]

    r = await client.post(
        f"/v1/applications/{inv.application_id}/withdrawal",
        headers=auth.officer(institution),
        json={"reason": "Kurumdan ayrıldı"},
    )
    assert r.status_code == 200, r.text
    again = await client.post(
        f"/v1/applications/{inv.application_id}/withdrawal",
        headers=auth.officer(institution),
        json={"reason": "Kurumdan ayrıldı"},
    )
    assert again.status_code == 409
    assert again.json()["title"] == "Başvurunun şu anki durumunda bu işlem yapılamaz"
    assert again.json()["detail"] == "Başvuru 'withdrawn' durumunda; 'withdrawn' durumuna geçemez."


async def test_a_staff_list_row_error_is_turkish(flow, client, auth):
    institution = await flow.institution()
    r = await flow.upload(institution, [person(171) | {"tckn": "17291716050"}])
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "rows.2.tckn",
        "code": "tckn_checksum",
        "message": "TC Kimlik No'nun kontrol haneleri tutmuyor.",
    }

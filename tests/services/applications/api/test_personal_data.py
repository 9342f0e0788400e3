"""Personal data and secrets: the TC Kimlik No and birth date never leave unmasked, the
invitation's token and password exist in plaintext nowhere (database, stream, logs)."""

from __future__ import annotations

import sqlalchemy as sa

from esign.db import make_engine
from esign.observability import scrub
from tests.support.applications import person


def test_scrub_masks_tckn_and_birth_dates_and_drops_secrets():
    assert scrub("holder 10000000146 signed") == "holder 100******46 signed"
    assert scrub("request a8f10000000146e") == "request a8f10000000146e"  # inside an id: not a TC Kimlik No
    assert scrub({"birth_date": "1985-04-12"}) == {"birth_date": "****-**-**"}
    assert scrub({"password": "hunter2", "link_token": "abc", "nested": [{"pin": "123456"}]}) == {
        "password": "[redacted]",
        "link_token": "[redacted]",
        "nested": [{"pin": "[redacted]"}],
    }


async def test_secrets_and_identity_never_appear_in_clear(flow, client, auth, applications_db, capfd):
    institution = await flow.institution()
    p = person(201)
    inv = (await flow.invited(institution, [p]))["kisi201@ornek.edu.tr"]
    await client.post("/v1/applicant/sessions", json={"token": inv.token, "password": "wrong-password"})
    await flow.completed(inv)

    engine = make_engine(applications_db)
    async with engine.connect() as conn:
        outbox = " ".join(r[0] for r in await conn.execute(sa.text("SELECT envelope::text FROM outbox")))
        invitation = (
            await conn.execute(
                sa.text("SELECT token_hash, password_hash FROM invitations WHERE application_id = :id"),
                {"id": inv.application_id},
            )
        ).one()
        security_word = (
            await conn.execute(
                sa.text("SELECT security_word_hash, form::text FROM applications WHERE id = :id"),
                {"id": inv.application_id},
            )
        ).one()
    await engine.dispose()
    logs = capfd.readouterr().err

    for secret in (inv.token, inv.password):
        assert secret not in outbox and secret not in logs and secret not in invitation
    assert invitation.password_hash.startswith("pbkdf2-sha256$")
    assert security_word.security_word_hash.startswith("$argon2id$") and "Kelebek42" not in security_word.form
    assert "Kelebek42" not in logs and "Kelebek42" not in outbox
    assert p["tckn"] not in outbox and p["tckn"] not in logs
    assert "1985-04-12" not in outbox
    assert '"event": "request"' in logs  # the logs were captured at all

    listed = await client.get("/v1/applications", headers=auth.officer(institution))
    assert p["tckn"] not in listed.text and "1985-04-12" not in listed.text


async def test_answers_with_personal_data_are_never_cached(flow, client, auth):
    """Names, contacts and addresses stay out of browser and proxy caches: every /v1 answer says
    no-store (a shared computer's browser history is where a form would otherwise linger)."""
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(202)]))["kisi202@ornek.edu.tr"]
    applicant = await flow.sign_in(inv)

    answers = [
        await client.get("/v1/applicant/application", headers=applicant),
        await client.patch("/v1/applicant/application/form", json={"title": "Uzman"}, headers=applicant),
        await client.get("/v1/applications", headers=auth.officer(institution)),
        await client.get(f"/v1/applications/{inv.application_id}", headers=auth.operator()),
        await client.get("/v1/applications", headers={}),  # a refusal too
    ]
    assert [r.headers.get("cache-control") for r in answers] == ["no-store"] * len(answers)
    assert (await client.get("/apply")).headers["cache-control"] == "no-cache"  # the page itself may be revalidated

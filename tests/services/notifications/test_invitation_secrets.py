"""The invitation e-mail carries the link and the access password, while the database rows, the
outbox, every stream and the logs never hold them in the clear."""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.notifications.adapters.orm import metadata
from tests.support.events import publish
from tests.support.notifications import Person, eventually, html_part, text_part


async def everything_stored(runtime) -> str:
    async with runtime.session_factory() as s:
        dumps = [
            json.dumps([dict(r._mapping) for r in (await s.execute(sa.select(t))).all()], default=str)
            for t in metadata.sorted_tables
        ]
    return "\n".join(dumps)


async def everything_streamed(js) -> str:
    seen = []
    for stream, subject in (
        ("APPLICATIONS", "applications.>"),
        ("TRACKING", "tracking.>"),
        ("NOTIFICATIONS", "notifications.>"),
    ):
        sub = await js.subscribe(
            subject, stream=stream, ordered_consumer=True, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        total = (await js.stream_info(stream)).state.messages
        for _ in range(total):
            seen.append((await sub.next_msg(timeout=5)).data.decode())
        await sub.unsubscribe()
    return "\n".join(seen)


async def test_invitation_email_has_link_and_password_and_nothing_else_keeps_them(
    notifications_app, notifications_js, runtime, smtp, capsys, deliveries_of
):
    token, password = secrets.token_urlsafe(32), "Q7KXW9MRT3ZP"
    link = f"http://localhost:8001/apply#token={token}"
    p = Person(first_name="İlkay Ağça", last_name="Doğruöz")
    await publish(notifications_js, p.invitation({"token": token, "password": password, "link": link}), "applications")

    [mail] = await eventually(lambda: _some(smtp.to(p.email)))
    assert mail["Subject"] == "E-imza (NES) başvuru davetiniz"
    text = text_part(mail)
    assert f"Başvuru formu bağlantısı:\n{link}\n" in text
    assert f"Erişim parolası: {password}\n" in text
    assert "Sayın İlkay Ağça Doğruöz," in text
    assert f'href="{link}"' in html_part(mail) and password in html_part(mail)
    assert mail["Message-ID"].endswith("@esign.localhost>")
    [row] = await eventually(lambda: _sent(deliveries_of(application_id=p.application_id)))

    stored, streamed, logged = (
        await everything_stored(runtime),
        await everything_streamed(notifications_js),
        capsys.readouterr().err,
    )
    assert str(p.application_id) in stored and "delivery_attempted" in logged  # we looked in the right places
    for secret in (token, password):
        assert secret not in stored
        assert secret not in streamed
        assert secret not in logged
    assert row.sealed_secret and row.status == "sent"


async def test_an_invitation_sealed_for_another_key_fails_without_retrying(
    notifications_app, notifications_js, deliveries_of
):
    from esign import sealing
    from esign.events import InvitationIssued

    p = Person()
    other_public = sealing.generate_keypair()[1]
    event = p.invitation()
    forged = InvitationIssued(
        **{**event.model_dump(), "sealed_credentials": sealing.seal(other_public, {"token": "x"})}
    )
    await publish(notifications_js, forged, "applications")
    [row] = await eventually(lambda: _done(deliveries_of(application_id=p.application_id)))
    assert (row.status, row.attempts) == ("failed", 1)
    assert "unseal" in row.last_error


async def _some(items):
    return items or None


async def _sent(query):
    rows = await query
    return rows if rows and all(r.status == "sent" for r in rows) else None


async def _done(query):
    rows = await query
    return rows if rows and all(r.status != "queued" for r in rows) else None

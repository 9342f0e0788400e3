"""The renewal's messages (issue 11): the holder's e-approval stops the old certificate's
reminders and tells the holder and the institution's officers; the officer's filing sends the
Renewal Form link, sealed until the worker opens it; the holder's approval of the form is
confirmed; a renewed certificate's production says when it becomes usable; every expiry warning
links to the renewal page. Real JetStream, PostgreSQL, SMTP and SMS provider."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta, timezone

from esign.events import InstitutionCreated, OfficerAdded
from tests.support.events import publish
from tests.support.notifications import Person, eventually, html_part, text_part

from .conftest import RENEWAL_PAGE_URL
from .test_invitation_secrets import everything_stored, everything_streamed
from .test_reminders import certificate, produce, reminders_of, scheduler


async def _mails(smtp, address: str, subject_part: str, n: int = 1):
    found = [m for m in smtp.to(address) if subject_part in m["Subject"]]
    return found if len(found) >= n else None


async def _officers(js, runtime, institution_id: uuid.UUID, names: list[str]) -> list[OfficerAdded]:
    await publish(js, InstitutionCreated(institution_id=institution_id, name="Çukurova Üniversitesi"), "applications")
    officers = [
        OfficerAdded(
            institution_id=institution_id,
            officer_id=uuid.uuid4(),
            full_name=name,
            email=f"nes{uuid.uuid4().hex[:8]}@cu.edu.tr",
        )
        for name in names
    ]
    for o in officers:
        await publish(js, o, "applications")

    async def known():
        async with runtime.uow() as uow:
            return len(await uow.directory.officers_of(institution_id)) == len(names)

    await eventually(known)
    return officers


async def test_e_approval_stops_the_old_reminders_and_tells_holder_and_officers(
    notifications_app, notifications_js, runtime, smtp, deliveries_of
):
    not_after = datetime(2036, 3, 10, 12, tzinfo=timezone.utc)
    holder = Person(first_name="Çağrı", last_name="Işıkoğlu")
    officers = await _officers(notifications_js, runtime, holder.institution_id, ["Ayşe Yılmaz", "Oğuz Işık"])
    old = await produce(notifications_js, runtime, holder, not_after)
    assert (await scheduler(runtime, not_after - timedelta(days=39)).run_once()).warned == 1

    renewal = Person(
        application_id=uuid.uuid4(),
        institution_id=holder.institution_id,
        holder_id=holder.holder_id,
        n=holder.n,
        first_name=holder.first_name,
        last_name=holder.last_name,
    )
    approved = renewal.renewal_e_approved(old.serial, holder.application_id)
    event_id = uuid.uuid4()
    await publish(notifications_js, approved, "applications", event_id=event_id)

    [mail] = await eventually(lambda: _mails(smtp, holder.email, "e-onayınız alındı"))
    text = text_part(mail)
    assert "Sayın Çağrı Işıkoğlu," in text and old.serial in text
    assert "Çukurova Üniversitesi NES yetkilisi kurumsal yenileme başvurunuzu" in text
    assert "Yenileme Formu" in text
    for o in officers:
        [officer_mail] = await eventually(lambda o=o: _mails(smtp, o.email, "Yenileme e-onayı: Çağrı Işıkoğlu"))
        assert f"Sayın {o.full_name}," in text_part(officer_mail)

    # the old certificate is warned no more; the holder's 14- and 3-day steps never come
    async def stopped():
        return (await certificate(runtime, old.serial)).renewal_recorded_at

    await eventually(stopped)
    for day in (13, 2):
        assert (await scheduler(runtime, not_after - timedelta(days=day)).run_once()).warned == 0
    assert await reminders_of(runtime, old.id) == {40: "sent"}

    # a redelivered event records nothing twice; no SMS for a step the holder just did themselves
    await publish(notifications_js, approved, "applications", event_id=event_id)
    await publish(notifications_js, Person().renewal_e_approved("X", uuid.uuid4()), "applications")
    rows = await deliveries_of(source_event_id=event_id)
    assert sorted((r.template, r.channel) for r in rows) == [
        ("renewal_e_approved", "email"),
        ("renewal_e_approved_officer", "email"),
        ("renewal_e_approved_officer", "email"),
    ]


async def test_the_renewal_form_link_reaches_the_holder_and_is_stored_nowhere_in_the_clear(
    notifications_app, notifications_js, runtime, smtp, sms_stub, capsys, deliveries_of
):
    holder = Person(first_name="İlkay Ağça", last_name="Doğruöz", locale="tr")
    await publish(
        notifications_js,
        InstitutionCreated(institution_id=holder.institution_id, name="Örnek Üniversitesi"),
        "applications",
    )
    await publish(notifications_js, holder.renewal_e_approved("OLD-1", uuid.uuid4()), "applications")
    await eventually(lambda: _mails(smtp, holder.email, "e-onayınız alındı"))

    token = secrets.token_urlsafe(32)
    link = f"http://localhost:8001/renew/form#token={token}"
    await publish(notifications_js, holder.renewal_filed({"token": token, "link": link}), "applications")

    [mail] = await eventually(lambda: _mails(smtp, holder.email, "Yenileme Formunuzu onaylayın"))
    text = text_part(mail)
    assert f"Yenileme Formu bağlantısı:\n{link}\n" in text
    assert "29.12.2026 tarihine kadar geçerlidir" in text and "Örnek Üniversitesi" in text
    assert f'href="{link}"' in html_part(mail)
    # the SMS (to the mobile the e-approval gave) says where to look, without the link
    [sms] = await eventually(lambda: _some(sms_stub.to(holder.mobile)))
    assert "Yenileme Formunuz e-postanıza gönderildi" in sms and token not in sms

    async def sent():
        rows = await deliveries_of(application_id=holder.application_id, template="renewal_form")
        return rows if len(rows) == 2 and all(r.status == "sent" for r in rows) else None

    rows = await eventually(sent)
    stored, streamed, logged = (
        await everything_stored(runtime),
        await everything_streamed(notifications_js),
        capsys.readouterr().err,
    )
    assert str(holder.application_id) in stored and "delivery_attempted" in logged
    assert token not in stored and token not in streamed and token not in logged
    assert [r.sealed_secret is not None for r in sorted(rows, key=lambda r: r.channel)] == [True, False]

    # the officer re-sends: a new link, and the e-mail says the old one is dead
    token2 = secrets.token_urlsafe(32)
    link2 = f"http://localhost:8001/renew/form#token={token2}"
    await publish(notifications_js, holder.renewal_filed({"token": token2, "link": link2}, resend=True), "applications")
    [_, again] = await eventually(lambda: _mails(smtp, holder.email, "Yenileme Formunuzu onaylayın", n=2))
    assert link2 in text_part(again) and "Önceki Yenileme Formu bağlantısı artık geçersizdir" in text_part(again)


async def test_form_approval_is_confirmed_in_the_holders_language(notifications_app, notifications_js, smtp):
    holder = Person(first_name="Zoë", last_name="Brontë", locale="en")
    await publish(notifications_js, holder.renewal_e_approved("OLD-2", uuid.uuid4()), "applications")
    [first] = await eventually(lambda: _mails(smtp, holder.email, "e-approval for the e-signature renewal"))
    assert "Renewal Form" in text_part(first)
    await publish(notifications_js, holder.renewal_form_approved("Ege University"), "applications")
    [mail] = await eventually(lambda: _mails(smtp, holder.email, "Your Renewal Form is approved"))
    assert "Dear Zoë Brontë," in text_part(mail)
    assert "the renewal filed by Ege University is now in Kamu SM's\nproduction queue" in text_part(mail)


async def test_the_renewed_certificate_says_when_it_becomes_usable_and_gets_its_own_schedule(
    notifications_app, notifications_js, runtime, smtp
):
    old_end = datetime(2037, 8, 1, 21, tzinfo=timezone.utc)
    holder = Person()
    old = await produce(notifications_js, runtime, holder, old_end)
    renewal = Person(application_id=uuid.uuid4(), institution_id=holder.institution_id, holder_id=holder.holder_id)
    await publish(notifications_js, renewal.renewal_e_approved(old.serial, holder.application_id), "applications")
    await eventually(lambda: _mails(smtp, renewal.email, "e-onayınız alındı"))

    new_serial = f"N-{uuid.uuid4().hex[:10]}"
    produced = renewal.produced(new_serial, old_end + timedelta(days=3 * 365), kind="renewal", renews_serial=old.serial)
    produced = produced.model_copy(update={"not_before": old_end})
    await publish(notifications_js, produced, "applications")
    [mail] = await eventually(lambda: _mails(smtp, renewal.email, "sertifikanız üretildi"))
    text = text_part(mail)
    assert f"{old.serial} seri numaralı sertifikanızın yenilemesidir: 01.08.2037" in text

    new = await eventually(lambda: certificate(runtime, new_serial))
    assert new.renewal_recorded_at is None and new.superseded_at is None
    assert (await certificate(runtime, old.serial)).superseded_at is not None
    run = await scheduler(runtime, new.not_after - timedelta(days=40)).run_once()
    assert run.warned == 1 and await reminders_of(runtime, new.id) == {40: "sent"}


async def test_expiry_warnings_link_to_the_renewal_page(notifications_app, notifications_js, runtime, smtp):
    not_after = datetime(2038, 2, 1, 12, tzinfo=timezone.utc)
    tr, en = Person(), Person(locale="en")
    await publish(notifications_js, tr.invitation(), "applications")  # the locale comes from the invitation
    await publish(notifications_js, en.invitation(), "applications")
    for p in (tr, en):
        await produce(notifications_js, runtime, p, not_after)
    assert (await scheduler(runtime, not_after - timedelta(days=39)).run_once()).warned == 2

    [tr_mail] = await eventually(lambda: _mails(smtp, tr.email, "40 gün"))
    [en_mail] = await eventually(lambda: _mails(smtp, en.email, "40 days"))
    assert f"yenileme sayfasını açın:\n  {RENEWAL_PAGE_URL}\n" in text_part(tr_mail)
    assert f"open the renewal page:\n  {RENEWAL_PAGE_URL}\n" in text_part(en_mail)
    for mail in (tr_mail, en_mail):
        assert f'href="{RENEWAL_PAGE_URL}"' in html_part(mail)
        assert "Destek" not in text_part(mail) and "support request" not in text_part(mail)


async def _some(items):
    return items or None

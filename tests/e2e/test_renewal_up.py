"""End to end, the renewal (issue 11): the platform as `esign up` runs it, a certificate produced
and delivered, the expiry warning caught by the mail catcher, its link opened in headless
Chromium with the real `esign-agent` serving a local SoftHSM2 card (`esign renewal-card`), the
E-Onay, the officer's filing, the Renewal Form approved from the caught e-mail, the operator's
production of the new certificate, its delivery; and in the notifications service's own tables,
the old certificate's reminders stopped and the new one's schedule started."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect, sync_playwright

from esign.db import make_engine
from esign.embedded import free_port
from tests.support.agent_process import esign_agent
from tests.support.applications import COMPLETE_FORM, last_name, person, roster_csv
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.service_process import wait_until

pytestmark = pytest.mark.e2e
ISTANBUL = ZoneInfo("Europe/Istanbul")
HOLDER = person(11)
OLD_SERIAL, NEW_SERIAL = "7A:11:0C:42", "7A:11:0C:43"


def mail_subjects(platform, to: str) -> list[str]:
    return [m["subject"] for m in platform.mail(to)]


def mail_line(platform, to: str, subject: str, pattern: str) -> str | None:
    """The first line matching ``pattern`` in the last e-mail with ``subject``, as a holder reads it."""
    mails = [m for m in platform.mail(to) if m["subject"] == subject]
    if not mails:
        return None
    return next((line.strip() for line in mails[-1]["text"].splitlines() if re.search(pattern, line)), None)


def delivered_first_application(platform, api: httpx.Client, operator: dict, not_after: datetime):
    """Institution, officer, invitation, form, signed paper, batch, production: the README's
    walkthrough in short. Returns (institution id, officer headers, application id)."""
    institution = api.post("/v1/institutions", json={"name": "Yenileme Üniversitesi"}, headers=operator).json()["id"]
    officer_email = "nes.yetkilisi@yenileme.edu.tr"
    api.post(
        f"/v1/institutions/{institution}/officers",
        json={"subject": officer_email, "full_name": "Oğuz Işık", "email": officer_email},
        headers=operator,
    ).raise_for_status()
    officer = platform.token("institution_officer", institution=institution, sub=officer_email)
    api.post(
        f"/v1/institutions/{institution}/roster",
        content=roster_csv([HOLDER]),
        headers={**officer, "Content-Type": "text/csv"},
    ).raise_for_status()
    link = wait_until(
        "the invitation", lambda: mail_line(platform, HOLDER["email"], "E-imza (NES) başvuru davetiniz", "#token=")
    )
    password = mail_line(platform, HOLDER["email"], "E-imza (NES) başvuru davetiniz", "^Erişim parolası:").split(":")[1]
    session = api.post("/v1/applicant/sessions", json={"token": link.split("#token=")[1], "password": password.strip()})
    applicant = {"Authorization": "Bearer " + session.json()["access_token"]}
    api.patch("/v1/applicant/application/form", json=COMPLETE_FORM, headers=applicant).raise_for_status()
    api.put(
        "/v1/applicant/application/security-word", json={"security_word": "Kelebek42"}, headers=applicant
    ).raise_for_status()
    api.post("/v1/applicant/application/completion", headers=applicant).raise_for_status()
    app_id = api.get("/v1/applicant/application", headers=applicant).json()["id"]
    api.post(
        f"/v1/applications/{app_id}/signed-form",
        json={"channel": "paper", "received_on": "2026-01-05"},
        headers=officer,
    ).raise_for_status()
    api.post(
        f"/v1/institutions/{institution}/batches", json={"application_ids": [app_id]}, headers=officer
    ).raise_for_status()
    produced = api.post(
        f"/v1/applications/{app_id}/production",
        headers=operator,
        json={
            "certificate_serial": OLD_SERIAL,
            "not_before": (not_after - timedelta(days=3 * 365)).isoformat(),
            "not_after": not_after.isoformat(),
            "card_type": "AKIS",
        },
    )
    assert produced.status_code == 200, produced.text
    return institution, officer, app_id


def status_of(api: httpx.Client, headers: dict, app_id: str, wanted: str) -> bool:
    return api.get(f"/v1/applications/{app_id}", headers=headers).json()["status"] == wanted


async def _certificates(url: str, holder_of_serial: str) -> dict[str, dict]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.text(
                        "select c.serial, c.renewal_recorded_at, c.superseded_at, c.not_after, "
                        "array(select r.days_before from expiry_reminders r where r.certificate_id = c.id) as steps "
                        "from certificates c where c.holder_id = "
                        "(select holder_id from certificates where serial = :serial)"
                    ),
                    {"serial": holder_of_serial},
                )
            ).all()
    finally:
        await engine.dispose()
    return {r.serial: dict(r._mapping) for r in rows}


def test_a_holder_renews_from_the_warning_e_mail_to_the_delivered_new_card(platform, tmp_path):
    # Reminders looked for every second (production: every 5 minutes), so the warning comes at once.
    platform.up(ESIGN_NOTIFICATIONS_SCHEDULER_INTERVAL_SECONDS="1")
    api = httpx.Client(base_url=platform.api, timeout=30)
    operator = platform.token("ca_operator")
    # Ends in 30 days: the renewal window (90 days) is open and the 40-day warning is due.
    old_end = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).astimezone(ISTANBUL)
    institution, officer, first = delivered_first_application(platform, api, operator, old_end)
    wait_until("the first card's delivery", lambda: status_of(api, officer, first, "delivered"), timeout=90)

    # The warning e-mail links to the renewal page.
    warning = "E-imza sertifikanızın süresi 40 gün içinde doluyor"
    link = wait_until("the expiry warning", lambda: mail_line(platform, HOLDER["email"], warning, r"/renew$"))
    assert link == f"{platform.origin}/renew"

    # The holder's card (a SoftHSM2 token with the local CA's certificate) and the agent serving it.
    out = platform.esign("renewal-card", "--application", first, "--card-dir", str(tmp_path / "card"))
    conf = re.search(r"^export SOFTHSM2_CONF=(\S+)$", out, re.M)[1]
    # It says how to start the agent for the one origin the page is on.
    assert out.rstrip().endswith(f"--allow-origin {platform.origin}")
    full_name = f"{HOLDER['first_name']} {last_name(11)}"
    agent_port = free_port()
    with (
        esign_agent(softhsm_conf=conf, allow_origin=platform.origin, port=agent_port, workdir=tmp_path / "agent"),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{link}?agent_port={agent_port}")
        expect(page.locator("#kart-adi")).to_have_text(full_name, timeout=15_000)
        page.fill("#pin", "123456")
        page.click("#giris-yap")
        expect(page.locator("#talep")).to_be_visible(timeout=15_000)
        page.fill("#f-title", "Doç. Dr.")
        page.click("#form-onayla")
        expect(page.locator("#eonay")).to_be_visible()
        page.fill("#eonay-pin", "123456")
        page.click("#eonay-ver")
        expect(page.locator("#tamam")).to_be_visible(timeout=30_000)

        # The holder and the officer are told; the officer files the institutional renewal.
        wait_until(
            "the e-approval e-mail",
            lambda: "E-imza yenileme için e-onayınız alındı" in mail_subjects(platform, HOLDER["email"]),
        )
        wait_until(
            "the officer's e-mail",
            lambda: f"Yenileme e-onayı: {full_name}" in mail_subjects(platform, "nes.yetkilisi@yenileme.edu.tr"),
        )
        [renewal] = api.get("/v1/renewals", params={"status": "e_approved"}, headers=officer).json()["items"]
        api.post(
            f"/v1/institutions/{institution}/renewal-batches",
            json={"renewal_ids": [renewal["id"]]},
            headers=officer,
        ).raise_for_status()

        # The Renewal Form, out of the caught e-mail, approved on its page.
        form_link = wait_until(
            "the Renewal Form e-mail",
            lambda: mail_line(platform, HOLDER["email"], "Yenileme Formunuzu onaylayın", r"/renew/form#token="),
        )
        assert form_link.startswith(f"{platform.origin}/renew/form#token=")
        page.goto(form_link)
        expect(page.locator("#yf-unvan")).to_have_text("Doç. Dr.")
        page.click("#yf-onayla")
        expect(page.locator("#yf-tamam")).to_be_visible()
        browser.close()
    sms = platform.sms("+905320000011")
    assert any("Yenileme Formunuz e-postanıza gönderildi" in s["text"] for s in sms)
    assert form_link.split("#token=")[1] not in json.dumps(sms)  # the link goes by e-mail only

    # The CA operator finds it in the queue with its evidence, and produces the new certificate.
    queue = api.get("/v1/applications", params={"status": "at_ca"}, headers=operator).json()["items"]
    assert [(a["id"], a["kind"]) for a in queue] == [(renewal["id"], "renewal")]
    report = api.get(f"/v1/applications/{renewal['id']}/e-approval", headers=operator).json()
    assert report["intact"] and report["trusted"] and report["covers_whole_file"] and report["key_usage_ok"]
    new_end = old_end + timedelta(days=3 * 365)
    produced = api.post(
        f"/v1/applications/{renewal['id']}/production",
        headers=operator,
        json={"certificate_serial": NEW_SERIAL, "not_after": new_end.isoformat(), "card_type": "AKIS"},
    )
    assert produced.status_code == 200, produced.text
    assert datetime.fromisoformat(produced.json()["certificate"]["not_before"]) == old_end  # usable when the old ends
    wait_until("the new card's delivery", lambda: status_of(api, officer, renewal["id"], "delivered"), timeout=90)

    subjects = mail_subjects(platform, HOLDER["email"])
    assert subjects.count("E-imza sertifikanız üretildi") == 2 and "Yenileme Formunuz onaylandı" in subjects
    renewed = [m for m in platform.mail(HOLDER["email"]) if "yenilemesidir" in m["text"]]
    assert len(renewed) == 1 and OLD_SERIAL in renewed[0]["text"]

    # In the notifications service: the old certificate warned once and then stopped (at the
    # e-approval), superseded by the new one, whose schedule is open (nothing sent yet).
    databases = json.loads((platform.data_dir / "databases.json").read_text())
    certificates = asyncio.run(_certificates(databases["notifications"], OLD_SERIAL))
    old, new = certificates[OLD_SERIAL], certificates[NEW_SERIAL]
    assert old["steps"] == [40] and old["renewal_recorded_at"] and old["superseded_at"]
    assert new["renewal_recorded_at"] is None and new["superseded_at"] is None and new["steps"] == []
    assert new["not_after"] == new_end
    platform.ctrl_c()

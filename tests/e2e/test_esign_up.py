"""End to end: the platform started the way `esign up` starts it (separate processes, embedded
PostgreSQL and NATS, persistent data dir), driven through HTTP like a newcomer following the
README, stopped with Ctrl-C, started again with its data intact."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.support.applications import COMPLETE_FORM, person, roster_csv
from tests.support.platform import platform_in_scratch_dir, port_open
from tests.support.service_process import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def platform():
    with platform_in_scratch_dir() as p:
        yield p


def test_first_application_through_the_running_platform(platform):
    lines = platform.up()
    banner = "".join(lines)
    # The one origin comes first: it is the URL to open.
    assert lines[0].startswith(f"esign          {platform.origin}"), lines[0]
    for name in ("applications", "notifications", "tracking"):
        assert f"{name:<14} http://127.0.0.1:{platform.ports[name]}" in banner
    api = httpx.Client(base_url=platform.api, timeout=30)
    tracking = httpx.Client(base_url=f"http://127.0.0.1:{platform.ports['tracking']}", timeout=30)
    notifications = httpx.Client(base_url=f"http://127.0.0.1:{platform.ports['notifications']}", timeout=30)
    operator = platform.token("ca_operator")

    institution = api.post("/v1/institutions", json={"name": "Uçtan Uca Üniversitesi"}, headers=operator).json()["id"]
    officer = platform.token("institution_officer", institution=institution, sub="nes.yetkilisi@uctan.edu.tr")
    r = api.post(
        f"/v1/institutions/{institution}/roster",
        content=roster_csv([person(1), person(2)]),
        headers={**officer, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["created"] == 2, r.text

    # The invitation, read out of the e-mail the mail catcher caught, as the applicant reads it.
    mails = wait_until("the invitation e-mail", lambda: platform.mail("kisi1@ornek.edu.tr"))
    invitation = mails[0]
    assert invitation["subject"] == "E-imza (NES) başvuru davetiniz"
    text = invitation["text"]
    link = next(line for line in text.splitlines() if "#token=" in line).strip()
    password = next(line for line in text.splitlines() if line.startswith("Erişim parolası:")).split(":", 1)[1].strip()
    assert link.startswith(platform.origin + "/apply#token=")  # the one origin, as in production
    assert wait_until("the other invitation", lambda: platform.mail("kisi2@ornek.edu.tr"))

    session = api.post("/v1/applicant/sessions", json={"token": link.split("#token=")[1], "password": password})
    assert session.status_code == 200, session.text
    applicant = {"Authorization": "Bearer " + session.json()["access_token"]}
    assert api.patch("/v1/applicant/application/form", json=COMPLETE_FORM, headers=applicant).status_code == 200
    assert (
        api.put(
            "/v1/applicant/application/security-word", json={"security_word": "Kelebek42"}, headers=applicant
        ).status_code
        == 200
    )
    assert api.post("/v1/applicant/application/completion", headers=applicant).json()["status"] == "form_completed"
    pdf = api.get("/v1/applicant/application/form.pdf", headers=applicant)
    assert pdf.content.startswith(b"%PDF")
    app_id = api.get("/v1/applicant/application", headers=applicant).json()["id"]

    api.post(
        f"/v1/applications/{app_id}/signed-form",
        json={"channel": "cargo_or_post", "received_on": "2026-01-05", "reference": "YK-998877"},
        headers=officer,
    ).raise_for_status()
    api.post(
        f"/v1/institutions/{institution}/batches", json={"application_ids": [app_id]}, headers=officer
    ).raise_for_status()
    produced = api.post(
        f"/v1/applications/{app_id}/production",
        headers=operator,
        json={
            "certificate_serial": "7F:01:AA",
            "not_before": "2026-01-10T00:00:00+03:00",
            "not_after": "2029-01-10T00:00:00+03:00",
        },
    )
    assert produced.json()["status"] == "produced"

    # The tracking service ships it; the simulated courier (one step a second here) delivers it.
    def application_status(wanted):
        return api.get(f"/v1/applications/{app_id}", headers=officer).json()["status"] == wanted

    wait_until("delivery", lambda: application_status("delivered"), timeout=90)
    history = api.get(f"/v1/applications/{app_id}/history", headers=officer).json()
    assert [h["to_status"] for h in history][-3:] == ["produced", "shipped", "delivered"]

    shipment = tracking.get("/v1/shipments", params={"application_id": app_id}, headers=operator).json()["items"][0]
    number = shipment["tracking_number"]
    query = tracking.post("/v1/public/shipment-queries", json={"tracking_number": number, "mobile_last4": "0001"})
    assert query.status_code == 200, query.text
    assert query.json()["status"] == "delivered" and query.json()["destination_city"] == "Ankara"
    wrong = tracking.post("/v1/public/shipment-queries", json={"tracking_number": number, "mobile_last4": "9999"})
    assert wrong.status_code == 404

    # What the holder received along the way: e-mails and SMS in Turkish, the tracking number in both.
    subjects = wait_until(
        "the delivery e-mail",
        lambda: (
            (s := [m["subject"] for m in platform.mail("kisi1@ornek.edu.tr")])
            and "E-imza kartınız teslim edildi" in s
            and s
        ),
    )
    assert subjects[0] == "E-imza (NES) başvuru davetiniz" and f"E-imza kartınız kargoya verildi: {number}" in subjects
    assert any(number in m["text"] for m in platform.mail("kisi1@ornek.edu.tr"))
    sms = wait_until(
        "the delivery SMS",
        lambda: (
            (t := [m["text"] for m in platform.sms("+905320000001")])
            and any("teslim edildi" in x.lower() for x in t)
            and t
        ),
    )
    assert any(number in text for text in sms), sms
    assert len(subjects) == len(set(subjects)), subjects  # each step once
    operator_view = notifications.get("/v1/deliveries", params={"application_id": app_id}, headers=operator).json()
    assert operator_view["items"] and all(d["status"] == "sent" for d in operator_view["items"])
    assert "kisi1@ornek.edu.tr" not in json.dumps(operator_view)  # recipients are masked

    out = platform.ctrl_c()
    assert "stopped." in out and platform.proc.returncode == 0
    for name in ("applications", "notifications", "tracking", "nats", "smtp"):
        assert not port_open(platform.ports[name]), f"{name} still listening"
    assert not port_open(platform.port), "nginx still listening"

    # Started again: the data is still there, and nothing is sent twice.
    platform.up()
    again = httpx.get(f"{platform.api}/v1/applications/{app_id}", headers=officer, timeout=30).json()
    assert again["status"] == "delivered" and again["person"]["email"] == "kisi1@ornek.edu.tr"
    time.sleep(2)  # give a wrongly redelivered event time to show up as a second e-mail
    assert [m["subject"] for m in platform.mail("kisi1@ornek.edu.tr")] == subjects
    platform.ctrl_c()

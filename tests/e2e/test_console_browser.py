"""The staff console in a real browser (Debian Chromium through Playwright) on the platform as
`esign up` runs it: every screen of both roles, each one scanned with axe-core, checked at 360 px
and photographed into docs/screenshots/console/; every test fails on a script error or a CSP
violation. The applicants' side (filling the form) goes through the API, as it is not the console's."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from esign.certificate_serial import serial_text
from esign.events import ExpiryWarned
from esign.jetstream import connect
from esign.local_ca import LocalCA
from tests.support.applications import COMPLETE_FORM, person, roster_csv
from tests.support.console import check_screen, new_page
from tests.support.events import publish
from tests.support.platform import Platform
from tests.support.renewal import Card, e_approved, holder_session, new_key
from tests.support.service_process import wait_until

pytestmark = pytest.mark.e2e

OFFICER, OPERATOR = "institution_officer", "ca_operator"


class Console:
    """The running platform, the console's origin, and the API behind it for set-up steps."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.origin = platform.origin  # nginx, as `esign up` runs it
        self.api = httpx.Client(base_url=platform.api, timeout=30)
        self.operator = platform.token(OPERATOR)

    async def sign_in(self, context: BrowserContext, role: str, institution: dict | None = None) -> Page:
        """Through the platform's local sign-in page, as a newcomer does after `make up`."""
        page = await new_page(context)
        await page.goto(f"{self.origin}/auth/login?next=%2Fconsole%2F")
        await expect(page.locator("body")).to_contain_text("YEREL GELİŞTİRME GİRİŞİ")
        await page.select_option("#role", role)
        if institution:
            await page.select_option("#institution_id", institution["id"])
        officer = role == OFFICER
        await page.fill("#subject", "nes@ornek.edu.tr" if officer else "operator@kamusm.gov.tr")
        await page.fill("#name", "Nes Yetkilisi" if officer else "Kamu SM Operatörü")
        await page.click("#sign-in")
        await page.wait_for_url(f"{self.origin}/console/**")
        await expect(page.locator("#sign-out")).to_be_visible()
        return page

    async def expire(self, context: BrowserContext) -> None:
        """Ends the browser's session on the server now, as the session's TTL would."""
        [session_id] = [c["value"] for c in await context.cookies() if c["name"] == "esign_session"]
        await self.platform.expire_console_session(session_id)

    def url(self, hash_: str = "/") -> str:
        return f"{self.origin}/console/#{hash_}"

    # -- set-up through the API (what other people do meanwhile)

    def institution(self, name: str) -> dict:
        r = self.api.post("/v1/institutions", json={"name": name}, headers=self.operator)
        assert r.status_code == 201, r.text
        return r.json()

    def officer_headers(self, institution: dict) -> dict[str, str]:
        return self.platform.token(OFFICER, institution=institution["id"], sub=f"nes@{institution['id'][:8]}")

    def upload(self, institution: dict, people: list[dict]) -> None:
        r = self.api.post(
            f"/v1/institutions/{institution['id']}/roster",
            content=roster_csv(people),
            headers={**self.officer_headers(institution), "Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text

    def invitation(self, email: str, after: int = 0) -> tuple[str, str, int]:
        mails = wait_until(f"invitation to {email}", lambda: (m := self.platform.mail(email)) and len(m) > after and m)
        text = mails[-1]["text"]
        link = next(line for line in text.splitlines() if "#token=" in line).strip()
        password = next(line for line in text.splitlines() if line.startswith("Erişim parolası:"))
        return link.split("#token=")[1], password.split(":", 1)[1].strip(), len(mails)

    def complete_form(self, email: str) -> str:
        """The applicant signs in with the e-mailed link and password and completes the form."""
        token, password, _ = self.invitation(email)
        r = self.api.post("/v1/applicant/sessions", json={"token": token, "password": password})
        assert r.status_code == 200, r.text
        headers = {"Authorization": "Bearer " + r.json()["access_token"]}
        self.api.patch("/v1/applicant/application/form", json=COMPLETE_FORM, headers=headers).raise_for_status()
        word = {"security_word": "Kelebek42"}
        self.api.put("/v1/applicant/application/security-word", json=word, headers=headers).raise_for_status()
        self.api.post("/v1/applicant/application/completion", headers=headers).raise_for_status()
        return r.json()["application_id"]

    def forwarded(self, institution: dict, people: list[dict]) -> list[str]:
        """Applications of ``people`` completed, received and forwarded (set-up for the operator)."""
        self.upload(institution, people)
        officer = self.officer_headers(institution)
        ids = [self.complete_form(p["email"]) for p in people]
        for app_id in ids:
            body = {"channel": "paper", "received_on": "2026-01-05"}
            self.api.post(f"/v1/applications/{app_id}/signed-form", json=body, headers=officer).raise_for_status()
        r = self.api.post(
            f"/v1/institutions/{institution['id']}/batches", json={"application_ids": ids}, headers=officer
        )
        assert r.status_code == 201, r.text
        return ids

    async def e_approved_renewals(self, institution: dict, people: list[dict], *, first_serial: int) -> list[dict]:
        """Renewals of ``people`` e-approved, without the browser's card step (test_renewal_up.py
        drives that with the real agent and a SoftHSM2 card; tests/.../test_renewal_page_browser.py
        the page): each first application produced with a certificate ending in 30 days (inside
        the renewal window), a card key made here with a certificate from `esign up`'s own local
        CA carrying the recorded serial, then the holder's card sign-in and e-approval through the
        renewal API. Returns, per person, the old application, the renewal and the serials."""
        ids = self.forwarded(institution, people)
        ca = LocalCA.load(self.platform.data_dir / "local-ca")
        ends = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
        starts = ends - timedelta(days=3 * 365)
        made = []
        async with httpx.AsyncClient(base_url=self.platform.api, timeout=60) as client:
            for n, (p, app_id) in enumerate(zip(people, ids, strict=True)):
                serial = first_serial + n
                body = {"certificate_serial": serial_text(serial), "not_before": starts.isoformat(),
                        "not_after": ends.isoformat()}  # fmt: skip
                r = await client.post(f"/v1/applications/{app_id}/production", json=body, headers=self.operator)
                assert r.status_code == 200, r.text
                key = new_key()
                name = f"{p['first_name']} {p['last_name']}"
                certificate = ca.issue_holder(
                    key.public_key(), full_name=name, tckn=p["tckn"], serial=serial, not_before=starts, not_after=ends
                )
                card = Card(key, certificate)
                holder = await holder_session(client, card, origin=self.platform.origin)  # PUBLIC_ORIGIN
                renewal = await e_approved(client, card, holder)
                made.append({"old": app_id, "renewal": renewal["id"], "name": name, "email": p["email"],
                             "serial": serial_text(serial), "ends": ends})  # fmt: skip
        return made

    def renewal_form_token(self, email: str, after: int = 0) -> tuple[str, int]:
        """The token of the newest "Renewal Form" e-mail to ``email`` once there are more than ``after``."""
        subject = "Yenileme Formunuzu onaylayın"

        def forms():
            mails = [m for m in self.platform.mail(email) if m["subject"] == subject]
            return mails if len(mails) > after else None

        mails = wait_until(f"the Renewal Form e-mail to {email}", forms)
        link = next(line for line in mails[-1]["text"].splitlines() if "#token=" in line).strip()
        return link.split("#token=")[1], len(mails)

    def status(self, app_id: str) -> str:
        return self.api.get(f"/v1/applications/{app_id}", headers=self.operator).json()["status"]


@pytest.fixture(scope="module")
def console(running_platform):
    return Console(running_platform)


# ---- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def context(chromium):
    context = await chromium.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    yield context
    problems = [p for page in context.pages for p in getattr(page, "problems", [])]
    await context.close()
    assert not problems, f"script errors or CSP violations: {problems}"


async def live_text(page: Page, text: str) -> None:
    await expect(page.locator("#announce")).to_contain_text(text)


# ---- the officer ---------------------------------------------------------------------------------


async def test_officer_uploads_fixes_resends_records_forwards_and_downloads(console, context, tmp_path: Path):
    institution = console.institution("Konsol Üniversitesi")
    page = await console.sign_in(context, OFFICER, institution)

    # Home, before anything: the designed empty state points to the staff list.
    await expect(page.locator("h1")).to_have_text("Özet")
    await expect(page.locator("main")).to_contain_text("Başlamak için personel listenizi yükleyin.")
    await check_screen(page, "officer-home-empty")

    # A staff list with errors: every row's errors in a table, nothing stored.
    people = [person(n) for n in (8001, 8002, 8003)]
    bad = [people[0], people[1] | {"tckn": "17291716050", "email": "eposta-degil"}, people[2] | {"mobile": "12"}]
    await page.click("text=Personel listesi")
    await expect(page.locator("h1")).to_have_text("Personel listesi yükle")
    await page.set_input_files(
        "#roster-file", files=[{"name": "personel.csv", "mimeType": "text/csv", "buffer": roster_csv(bad)}]
    )
    await expect(page.locator("#roster-chosen")).to_contain_text("personel.csv")
    await page.click("#roster-upload")
    await expect(page.locator("#roster-result [role=alert]")).to_contain_text(
        "Dosyada 3 hata var; hiçbir kayıt saklanmadı."
    )
    rows = page.locator("#roster-result tbody tr")
    await expect(rows).to_have_count(3)
    assert [await r.locator("th, td").all_inner_texts() for r in await rows.all()] == [
        ["3", "TC Kimlik No", "TC Kimlik No geçersiz (kontrol basamakları tutmuyor)."],
        ["3", "E-posta", "Geçerli bir e-posta adresi girin."],
        ["4", "Cep telefonu", "Türkiye'deki bir cep telefonu numarası girin, örneğin 0532 123 45 67."],
    ]
    await live_text(page, "Dosyada 3 hata var")
    summary = console.api.get("/v1/applications/summary", headers=console.officer_headers(institution)).json()
    assert summary["total"] == 0  # nothing half-stored
    await check_screen(page, "officer-roster-errors")

    # Fixed and uploaded again (drag and drop this time): created counts.
    await page.dispatch_event(
        ".dropzone",
        "drop",
        {
            "dataTransfer": await page.evaluate_handle(
                """(text) => { const dt = new DataTransfer();
          dt.items.add(new File([text], 'personel-duzeltilmis.csv', {type: 'text/csv'})); return dt; }""",
                roster_csv(people).decode(),
            )
        },
    )
    await expect(page.locator("#roster-chosen")).to_contain_text("personel-duzeltilmis.csv")
    await page.click("#roster-upload")
    await expect(page.locator("#roster-result .notice.good")).to_contain_text(
        "Liste yüklendi: 3 yeni kişi eklendi, 0 kişi zaten kayıtlıydı."
    )
    await check_screen(page, "officer-roster-uploaded")

    # Two applicants complete their forms (on their own page; here through the API).
    first = console.complete_form(people[0]["email"])
    second = console.complete_form(people[1]["email"])

    # Home now: the funnel, who has not filled the form.
    await page.click("text=Özet")
    await expect(page.locator("[aria-labelledby=h-funnel] .funnel")).to_contain_text("Form tamamlandı")
    not_filled = page.locator("[aria-labelledby=h-notfilled]")
    await expect(not_filled).to_contain_text("1 kişi formu henüz tamamlamadı.")
    await expect(not_filled).to_contain_text(f"{people[2]['first_name']} {people[2]['last_name']}")
    await check_screen(page, "officer-home")

    # Applications: search by name, then the one who has not filled the form gets a new invitation.
    await page.click("nav >> text=Başvurular")
    await expect(page.locator("#applications-list tbody tr")).to_have_count(3)
    await page.fill("#f-q", people[2]["last_name"])
    await page.click("text=Filtrele")
    await expect(page.locator("#applications-list tbody tr")).to_have_count(1)
    await live_text(page, "1 başvuru bulundu.")
    await check_screen(page, "officer-applications")
    _, _, mails_before = console.invitation(people[2]["email"])
    await page.click(f"text={people[2]['first_name']} {people[2]['last_name']}")
    await expect(page.locator("h1")).to_contain_text(people[2]["last_name"])
    await page.click("#resend-invitation")
    await live_text(page, "Yeni davet gönderiliyor")
    console.invitation(people[2]["email"], after=mails_before)  # a second e-mail with a new link and password

    # One application: masked identity, timeline; record the signed form (a future date first).
    await page.goto(console.url(f"/applications/{first}"))
    tckn = people[0]["tckn"]
    await expect(page.locator("[aria-labelledby=h-person]")).to_contain_text(f"{tckn[:3]}******{tckn[-2:]}")
    assert tckn not in await page.content()
    await expect(page.locator("[aria-labelledby=h-person]")).to_contain_text("**.**.1985")
    await expect(page.locator(".timeline li")).to_have_count(3)
    await check_screen(page, "officer-application")
    await page.select_option("#f-channel", "cargo_or_post")
    await page.fill("#f-received_on", "2099-01-01")
    await page.fill("#f-reference", "YK-12345")
    await page.click("#signed-form button[type=submit]")
    await expect(page.locator("#f-received_on-error")).to_have_text("Tarih ileride olamaz.")
    assert await page.get_attribute("#f-received_on", "aria-invalid") == "true"
    await page.fill("#f-received_on", "2026-01-05")
    await page.click("#signed-form button[type=submit]")
    await expect(page.locator(".status-line")).to_contain_text("İmzalı form alındı")
    await expect(page.locator("[aria-labelledby=h-signed]")).to_contain_text("Kargo veya iadeli taahhütlü posta")
    await expect(page.locator("[aria-labelledby=h-signed]")).to_contain_text("YK-12345")

    # Select and forward: only received applications can be picked; then the manifest.
    await page.click("nav >> text=Başvurular")
    await expect(page.locator("#applications-list tbody tr")).to_have_count(3)
    second_name = f"{people[1]['first_name']} {people[1]['last_name']}"
    assert await page.is_disabled(f"[aria-label='{second_name} başvurusunu seç']")
    await page.check(f"[aria-label='{people[0]['first_name']} {people[0]['last_name']} başvurusunu seç']")
    await expect(page.locator(".selected-count")).to_have_text("1 başvuru seçildi")
    await page.fill("#f-note", "Aralık grubu")
    await page.click("#forward")
    await expect(page.locator("h1")).to_have_text("İletilen grup")
    await live_text(page, "1 başvuru tek grup olarak iletildi.")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("tbody")).to_contain_text(f"{tckn[:3]}******{tckn[-2:]}")
    await check_screen(page, "officer-batch")
    async with page.expect_download() as download_info:
        await page.click("#manifest-csv")
    download = await download_info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [(r["application_id"], r["tckn_masked"], r["status"]) for r in rows] == [
        (first, f"{tckn[:3]}******{tckn[-2:]}", "forwarded")
    ]
    assert tckn not in saved.read_text(encoding="utf-8-sig")
    assert console.status(first) == "forwarded" and console.status(second) == "form_completed"

    await page.click("nav >> text=İletilen gruplar")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await check_screen(page, "officer-batches")

    # The delivery log: what was sent to whom, masked.
    await page.click("nav >> text=İleti kayıtları")
    # The previous screen's table row can still be on the page while this one loads: wait for
    # the delivery log's own rows (a masked recipient) before reading it.
    await expect(page.locator("main")).not_to_contain_text("Yükleniyor")
    await expect(page.locator("tbody tr").first).to_contain_text("***")
    log = await page.locator("main").inner_text()
    assert people[0]["email"] not in log and "***" in log
    await check_screen(page, "officer-deliveries")

    # Expiring soon: the forwarded one is produced with 60 days left (no warning is due yet), then
    # the notifications service reports the 40-day warning it sent: home shows both states.
    ends = datetime.now(UTC) + timedelta(days=60)
    r = console.api.post(
        f"/v1/applications/{first}/production",
        headers=console.operator,
        json={
            "certificate_serial": "7F:01:AB",
            "not_before": (ends - timedelta(days=1095)).isoformat(),
            "not_after": ends.isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    await page.click("nav >> text=Özet")
    expiring = page.locator("[aria-labelledby=h-expiring]")
    await expect(expiring).to_contain_text(f"{people[0]['first_name']} {people[0]['last_name']}")
    await expect(expiring).to_contain_text("Henüz uyarılmadı")
    nc = await connect(console.platform.nats_url, name="console-test")
    try:
        warned = ExpiryWarned(
            application_id=uuid.UUID(first),
            institution_id=uuid.UUID(institution["id"]),
            holder_id=uuid.uuid4(),
            certificate_serial="7F:01:AB",
            not_after=ends,
            days_before=40,
            warned_at=datetime.now(UTC),
        )
        await publish(nc.jetstream(), warned, "notifications")
    finally:
        await nc.close()
    for _ in range(100):  # until the applications service has recorded it (read again each time)
        await page.reload()
        await expect(expiring.locator("li, .state.empty")).not_to_have_count(0)
        if "40 gün kala uyarıldı" in await expiring.inner_text():
            break
    await expect(expiring).to_contain_text("40 gün kala uyarıldı")
    await check_screen(page, "officer-home-expiring")

    # The same screens in English.
    await page.click("#lang")
    await expect(page.locator("h1")).to_have_text("Overview")
    await expect(expiring).to_contain_text("Warned 40 days before")
    assert await page.get_attribute("html", "lang") == "en"
    await page.goto(console.url(f"/applications/{second}"))
    await expect(page.locator(".status-line")).to_contain_text("Form completed")
    await check_screen(page, "officer-application-en")
    await page.click("#lang")
    await expect(page.locator(".status-line")).to_contain_text("Form tamamlandı")


# ---- the CA operator -----------------------------------------------------------------------------


async def test_operator_rejects_one_produces_another_and_sees_its_shipment_move(console, context, tmp_path: Path):
    institution = console.institution("Operatör Üniversitesi")
    people = [person(n, domain="operator.edu.tr") for n in (8101, 8102)]
    rejected, produced = console.forwarded(institution, people)
    page = await console.sign_in(context, OPERATOR)

    # The queue: forwarded applications across institutions, filtered by institution.
    await expect(page.locator("h1")).to_have_text("Kamu SM'ye iletilen başvurular")
    await page.select_option("#f-institution_id", institution["id"])
    await page.click("text=Filtrele")
    await expect(page.locator("#applications-list tbody tr")).to_have_count(2)
    await expect(page.locator("#applications-list tbody")).to_contain_text("Operatör Üniversitesi")
    await check_screen(page, "operator-queue")

    # One application: the printed form, then a rejection (too short a reason first).
    await page.click(f"text={people[0]['first_name']} {people[0]['last_name']}")
    await expect(page.locator(".status-line")).to_contain_text("Kamu SM'ye iletildi")
    assert await page.locator("#e-approval").count() == 0  # a first application has no e-approval
    async with page.expect_download() as download_info:
        await page.click("#download-pdf")
    pdf = tmp_path / "form.pdf"
    await (await download_info.value).save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    await check_screen(page, "operator-application")
    await page.fill("#f-reason", "Eks")
    await page.click("#reject-form button[type=submit]")
    await expect(page.locator("#f-reason-error")).to_have_text("Bu alan çok kısa.")
    await page.fill("#f-reason", "Taahhütname imzasız gönderilmiş.")
    await page.click("#reject-form button[type=submit]")
    await expect(page.locator(".status-line")).to_contain_text("İade edildi")
    await expect(page.locator("[aria-labelledby=h-rej]")).to_contain_text("Taahhütname imzasız gönderilmiş.")
    assert console.status(rejected) == "rejected"

    # The other one is produced; the field errors stand next to their fields.
    await page.goto(console.url(f"/applications/{produced}"))
    await page.fill("#f-certificate_serial", "ZZ-not-hex")
    await page.fill("#f-not_before", "2026-01-10")
    await page.click("#production-form button[type=submit]")
    await expect(page.locator("#f-certificate_serial-error")).to_have_text("Biçim geçerli değil.")
    await expect(page.locator("#f-not_after-error")).to_have_text("Geçerli bir tarih ve saat girin.")
    await check_screen(page, "operator-production-errors")
    await page.fill("#f-certificate_serial", "7F:01:AA")
    await page.fill("#f-not_after", "2029-01-10")
    await page.click("#production-form button[type=submit]")
    await expect(page.locator(".status-line")).to_contain_text("Üretildi")
    await expect(page.locator("[aria-labelledby=h-cert]")).to_contain_text("7F:01:AA")

    # Its shipment: the tracking service makes it, the (simulated, one step a second) courier moves
    # it; the operator sees the application go from produced to delivered, and the steps between.
    wait_until("delivery", lambda: console.status(produced) == "delivered", timeout=90)
    await page.reload()
    await expect(page.locator(".status-line")).to_contain_text("Teslim edildi")
    timeline = page.locator("[aria-labelledby=h-time] li")
    await expect(timeline.last).to_contain_text("Kargoda → Teslim edildi")
    await expect(page.locator("[aria-labelledby=h-ship]")).to_contain_text("Teslim edildi")
    await page.click("[aria-labelledby=h-ship] >> text=Gönderiyi aç")
    await expect(page.locator("h1")).to_contain_text("Gönderi")
    steps = page.locator("[aria-labelledby=h-st] li")
    await expect(steps.last).to_contain_text("Teslim edildi")
    assert await steps.count() >= 4  # created, handed to the courier, ..., delivered
    await expect(page.locator("[aria-labelledby=h-ce] tbody tr").first).to_be_visible()
    await check_screen(page, "operator-shipment")

    await page.click("nav >> text=Gönderiler")
    await expect(page.locator("[aria-labelledby=h-all] tbody tr").first).to_be_visible()
    await check_screen(page, "operator-shipments")

    # Institutions: create one (an empty name is refused next to the field), then one's page.
    await page.click("nav >> text=Kurumlar")
    await page.click("#institution-form button[type=submit]")
    await expect(page.locator("#f-name-error")).to_have_text("Bu alan çok kısa.")
    await page.fill("#f-name", "Yeni Kurum Üniversitesi")
    await page.click("#institution-form button[type=submit]")
    await live_text(page, "«Yeni Kurum Üniversitesi» oluşturuldu.")
    await expect(page.locator("tbody")).to_contain_text("Yeni Kurum Üniversitesi")
    await check_screen(page, "operator-institutions")
    await page.click("text=Operatör Üniversitesi")
    await expect(page.locator("h1")).to_have_text("Kurum: Operatör Üniversitesi")
    await expect(page.locator("[aria-labelledby=h-i-act] tbody tr")).to_have_count(1)
    await check_screen(page, "operator-institution")

    # Messages: the delivery log across institutions, a template preview, dead letters.
    await page.click("nav >> text=İleti kayıtları")
    await expect(page.locator("tbody tr").first).to_be_visible()
    await check_screen(page, "operator-deliveries")
    await page.click("nav >> text=İleti şablonları")
    await page.select_option("#f-template", "expiry_warning")
    await page.select_option("#f-channel", "sms")
    await page.click("text=Önizle")
    await expect(page.locator(".preview")).to_contain_text("SMS parçası")
    await check_screen(page, "operator-templates")
    # Dead letters: a broken message on the tracking stream (as a faulty relay might publish) is
    # dead-lettered by the applications service; its replay fails again, and says so.
    await page.click("nav >> text=İşlenemeyen olaylar")
    tracking_section = page.locator("section:has(h2:text-is('Gönderi takip servisi'))")
    await expect(tracking_section).to_contain_text("İşlenemeyen olay yok.")
    nc = await connect(console.platform.nats_url, name="console-test")
    try:
        await nc.jetstream().publish("tracking.shipment.delivered", b"{not json")
    finally:
        await nc.close()
    applications_section = page.locator("section:has(h2:text-is('Başvurular servisi'))")
    for _ in range(100):  # until the consumer has given up on it (the list is read again each time)
        await page.reload()
        if await applications_section.locator("tbody tr").count():
            break
    await expect(applications_section.locator("tbody tr")).to_have_count(1)
    await expect(applications_section).to_contain_text("tracking.shipment.delivered")
    await check_screen(page, "operator-dead-letters")
    await applications_section.locator("text=Yeniden işlet").click()
    await live_text(page, "Olay yeniden işletilemedi; işleyici yine hata verdi.")


# ---- who sees what, and the end of a session -------------------------------------------------------


async def test_an_officer_of_another_institution_sees_none_of_it(console, context):
    mine = console.institution("Gizli Üniversite")
    people = [person(8201, domain="gizli.edu.tr")]
    [app_id] = console.forwarded(mine, people)
    batch_id = console.api.get(f"/v1/applications/{app_id}", headers=console.operator).json()["batch_id"]
    other = console.institution("Komşu Üniversite")
    console.upload(other, [person(n, domain="komsu.edu.tr") for n in range(8210, 8270)])
    page = await console.sign_in(context, OFFICER, other)

    # Their own list, 50 a page: none of the other institution's people on either page.
    await page.click("nav >> text=Başvurular")
    await expect(page.locator(".pager-range")).to_have_text("1–50 / 60")
    await expect(page.locator("#applications-list tbody tr")).to_have_count(50)
    assert people[0]["last_name"] not in await page.locator("main").inner_text()
    await page.click("text=Sonraki sayfa")
    await expect(page.locator(".pager-range")).to_have_text("51–60 / 60")
    await expect(page.locator("#applications-list tbody tr")).to_have_count(10)
    assert people[0]["last_name"] not in await page.locator("main").inner_text()
    await page.fill("#f-q", people[0]["last_name"])
    await page.click("text=Filtrele")
    await expect(page.locator("#applications-list")).to_contain_text("Gösterilecek kayıt yok.")
    # Editing the address: the same answer as for an id that does not exist.
    await page.goto(console.url(f"/applications/{app_id}"))
    await expect(page.locator("h1")).to_have_text("Bu başvuru yok ya da sizin görme yetkiniz yok.")
    assert people[0]["last_name"] not in await page.content()
    await check_screen(page, "officer-not-visible")
    await page.goto(console.url(f"/batches/{batch_id}"))
    await expect(page.locator("main [role=alert]")).to_contain_text("Bulunamadı ya da görme yetkiniz yok.")
    await page.goto(console.url("/batches"))
    await expect(page.locator("main")).to_contain_text("Gösterilecek kayıt yok.")
    # The delivery log holds this institution's own invitations (how many are out yet depends on
    # the issuer's pace), never the other institution's.
    await page.goto(console.url("/deliveries"))
    await expect(page.locator("main .pager-range, main :text('Gösterilecek kayıt yok.')").first).to_be_visible()
    assert "gizli.edu.tr" not in await page.locator("main").inner_text()
    # Operators' screens are not there for an officer.
    await page.goto(console.url("/institutions"))
    await expect(page.locator("h1")).to_have_text("Böyle bir sayfa yok.")

    # Signing out ends the session: back to the sign-in page, and the console does not come back.
    await page.click("#sign-out")
    await page.wait_for_url(f"{console.origin}/auth/local?next=*")
    await page.goto(console.url("/applications"))
    await page.wait_for_url(f"{console.origin}/auth/local?next=*")


async def test_an_expired_session_returns_to_sign_in_and_keeps_nothing(console, context):
    institution = console.institution("Süre Üniversitesi")
    console.upload(institution, [person(8301, domain="sure.edu.tr")])
    page = await console.sign_in(context, OFFICER, institution)
    await page.click("nav >> text=Başvurular")
    await expect(page.locator("#applications-list tbody tr")).to_have_count(1)

    await console.expire(context)
    await page.click("nav >> text=İleti kayıtları")
    await page.wait_for_url(f"{console.origin}/auth/local?next=*")  # /auth/login's local sign-in
    assert "%2Fconsole%2F%23%2Fdeliveries" in page.url  # back to where the user was, after signing in
    assert await page.evaluate("sessionStorage.length") == 0
    kept = await page.evaluate("Object.keys(localStorage)")
    assert set(kept) <= {"esign.console.lang"}  # a language preference at most, never data
    await page.go_back()  # the console's page from the history shows nothing and signs in again
    await page.wait_for_url(f"{console.origin}/auth/local?next=*")


# ---- renewals --------------------------------------------------------------------------------------


async def test_renewals_officer_files_and_resends_operator_checks_the_e_approval_and_produces(
    console, context, tmp_path: Path
):
    institution = console.institution("Yenileme Konsol Üniversitesi")
    people = [person(n, domain="yenileme.edu.tr") for n in (8401, 8402)]
    first, second = await console.e_approved_renewals(institution, people, first_serial=0x7C0100)
    page = await console.sign_in(context, OFFICER, institution)

    # Home: the renewals waiting for the officer, counted, each count a link to the list.
    waiting = page.locator("[aria-labelledby=h-renewals]")
    await expect(waiting.locator("#renewals-e_approved")).to_contain_text("2")
    await expect(waiting.locator("#renewals-e_approved")).to_contain_text("e-onaylı, dosyalanmayı bekliyor")
    await expect(waiting.locator("#renewals-filed")).to_contain_text("0")
    await check_screen(page, "officer-home-renewals")

    # The Renewals screen: both e-approved; file them as one institutional renewal application.
    await waiting.locator("#renewals-e_approved").click()
    await expect(page.locator("h1")).to_have_text("Yenilemeler")
    rows = page.locator("#renewals-list tbody tr")
    await expect(rows).to_have_count(2)
    await live_text(page, "2 yenileme bulundu.")
    await page.click("#file-renewals")
    await expect(page.locator(".forward .form-error")).to_have_text("Dosyalamak için e-onaylı yenilemeleri seçin.")
    for one in (first, second):
        await page.check(f"[aria-label='{one['name']} yenilemesini seç']")
    await expect(page.locator(".selected-count")).to_have_text("2 yenileme seçildi")
    await check_screen(page, "officer-renewals")
    await page.fill("#f-note", "Aralık yenilemeleri")
    await page.click("#file-renewals")
    await expect(page.locator("h1")).to_have_text("İletilen grup")
    await live_text(page, "2 yenileme tek başvuru olarak dosyalandı")
    await expect(page.locator("tbody tr")).to_have_count(2)
    async with page.expect_download() as download_info:
        await page.click("#manifest-csv")
    saved = tmp_path / (await download_info.value).suggested_filename
    await (await download_info.value).save_as(saved)
    manifest = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert sorted((r["application_id"], r["status"]) for r in manifest) == sorted(
        [(first["renewal"], "filed"), (second["renewal"], "filed")]
    )
    assert all(people[0]["tckn"] not in r["tckn_masked"] for r in manifest)
    token, forms = console.renewal_form_token(first["email"])

    # Renewal Forms not yet approved: re-send one; a new e-mail comes, the old link is dead.
    await page.click("nav >> text=Yenilemeler")
    await page.select_option("#f-status", "filed")
    # Wait for the filtered list itself: the unfiltered one shows the same two rows, and a click
    # on its button would race the re-render (whose count announcement then hides the result's).
    async with page.expect_response(lambda r: "/v1/renewals?" in r.url and "status=filed" in r.url):
        await page.click("text=Filtrele")
    await expect(rows).to_have_count(2)
    await expect(page.locator(f"#resend-{first['renewal']}")).to_be_visible()
    await check_screen(page, "officer-renewals-filed")
    # The list reloads after the re-send and says its count; the outcome must be what stays said.
    async with page.expect_response(lambda r: "/v1/renewals?" in r.url and r.request.method == "GET"):
        await page.click(f"#resend-{first['renewal']}")
    await expect(page.locator("#renewals-list")).not_to_have_attribute("aria-busy", "true")
    await expect(rows).to_have_count(2)
    await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    await live_text(page, "Yenileme Formu yeniden gönderiliyor")
    await check_screen(page, "officer-renewals-resent")
    new_token, _ = console.renewal_form_token(first["email"], after=forms)
    assert new_token != token
    dead = console.api.post("/v1/renewal-forms/view", json={"token": token})
    assert dead.status_code == 404 and dead.json()["code"] == "renewal_form_link_invalid"
    # The holder approves the new one (on the Renewal Form page; here through its API): to the CA.
    approved = console.api.post("/v1/renewal-forms/approval", json={"token": new_token})
    assert approved.status_code == 200 and approved.json() == {"status": "at_ca"}, approved.text
    await page.reload()
    await expect(rows).to_have_count(1)  # only the second one still waits for its holder
    await page.goto(console.url("/"))
    await expect(waiting.locator("#renewals-filed")).to_contain_text("1")
    await page.click("#sign-out")
    await page.wait_for_url(f"{console.origin}/auth/local?next=*")

    # The operator's queue, renewals only: the approved one, marked as a renewal.
    page = await console.sign_in(context, OPERATOR)
    await page.select_option("#f-kind", "renewal")
    await page.select_option("#f-institution_id", institution["id"])
    await page.click("text=Filtrele")
    queue = page.locator("#applications-list tbody tr")
    await expect(queue).to_have_count(1)
    await expect(queue).to_contain_text(first["name"])
    await expect(queue).to_contain_text("Yenileme")
    await check_screen(page, "operator-queue-renewals")
    await page.select_option("#f-kind", "first")
    await page.click("text=Filtrele")
    await expect(page.locator("#applications-list")).to_contain_text("Gösterilecek kayıt yok.")

    # The renewal's page: the validation report in plain words, the signed PDF.
    await page.goto(console.url(f"/applications/{first['renewal']}"))
    await expect(page.locator(".status-line")).to_contain_text("Kamu SM'de (yenileme)")
    report = page.locator("#e-approval")
    await expect(report.locator("#e-approval-verdict")).to_have_text(
        "İmza geçerli: belge imzadan sonra değişmemiş, imzalayan sertifika güvenilir bir zincire bağlı."
    )
    await expect(report).to_contain_text(first["serial"].replace(":", ""))  # the signer's serial, as hex
    await expect(report).to_contain_text("Değişmemiş")
    await expect(report).to_contain_text("Güvenilir kök sertifikaya bağlı")
    await expect(report).to_contain_text("Belgenin tamamı")
    await expect(report).to_contain_text("İnkâr edilemezlik (nitelikli imza)")
    assert await page.locator("#download-pdf").count() == 0  # a renewal has no printed form
    async with page.expect_download() as download_info:
        await page.click("#download-e-approval")
    pdf = tmp_path / "e-onay.pdf"
    await (await download_info.value).save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and b"/ByteRange" in pdf.read_bytes()
    # Production: the date left empty starts the new certificate when the old one ends; the old
    # serial is refused first.
    await expect(page.locator("#f-not_before-hint")).to_contain_text("Boş bırakılırsa eski sertifikanın bittiği an")
    await check_screen(page, "operator-renewal")
    await page.fill("#f-certificate_serial", first["serial"])
    await page.fill("#f-not_after", (first["ends"] + timedelta(days=3 * 365)).date().isoformat())
    await page.click("#production-form button[type=submit]")
    await expect(page.locator("#production-form .form-error")).to_contain_text(
        "Bu, eski sertifikanın seri numarası; yenilemede yeni bir seri numarası verilmeli."
    )
    await expect(page.locator("#f-certificate_serial-error")).to_have_text(
        "Eski sertifikanın seri numarası; yeni bir seri numarası girin."
    )
    assert await page.get_attribute("#f-certificate_serial", "aria-invalid") == "true"
    await check_screen(page, "operator-renewal-production-error")
    await page.fill("#f-certificate_serial", "7C:02:00")
    await page.click("#production-form button[type=submit]")
    await expect(page.locator(".status-line")).to_contain_text("Üretildi")
    await expect(page.locator("[aria-labelledby=h-cert]")).to_contain_text("7C:02:00")
    certificate = console.api.get(f"/v1/applications/{first['renewal']}", headers=console.operator).json()
    assert datetime.fromisoformat(certificate["certificate"]["not_before"]) == first["ends"]

    # In English: the report's words too.
    await page.click("#lang")
    await expect(report.locator("#e-approval-verdict")).to_contain_text("The signature is valid")
    await expect(report).to_contain_text("Chains to a trusted root")
    await check_screen(page, "operator-renewal-en")
    await page.click("#lang")

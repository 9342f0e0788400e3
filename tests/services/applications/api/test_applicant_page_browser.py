"""The applicant's page in a real browser: headless Chromium opens the link from the invitation
e-mail on the applications app served over HTTP (uvicorn on a free port), signs in with the access
password, fills the form (fixing a field the API refuses), sets the security word, completes the
form and downloads the PDF to print."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.support.applications import person
from tests.support.browser import served, watched_page


@pytest.fixture(scope="module")
async def base_url(applications_app):
    async with served(applications_app) as url:
        yield url


@pytest.fixture
async def page(chromium):
    # A phone's screen: the page is used from the e-mail, often on a phone.
    async with watched_page(chromium, accept_downloads=True, viewport={"width": 360, "height": 740}) as page:
        yield page


async def sign_in(page: Page, password: str) -> None:
    await page.fill("#parola", password)
    await page.click("#giris-yap")


async def test_the_applicant_fills_completes_and_prints_the_form(base_url, page, flow, client, tmp_path: Path):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(7101)]))["kisi7101@ornek.edu.tr"]
    assert inv.link.startswith("http://localhost:8001/apply#token=")

    await page.goto(f"{base_url}/apply#token={inv.token}")
    await expect(page.locator("#parola")).to_be_visible()
    assert page.url == f"{base_url}/apply"  # the token is out of the address bar (and the history)
    assert inv.token not in page.url

    await sign_in(page, "YanlisParola9")
    await expect(page.locator("#mesaj")).to_contain_text("erişim parolası hatalı")
    assert await page.is_hidden("#basvuru")
    assert await page.input_value("#parola") == ""  # not kept in the field either

    await sign_in(page, inv.password)
    await expect(page.locator("#form")).to_be_visible()
    tckn = person(7101)["tckn"]
    assert await page.text_content("#k-tckn") == f"{tckn[:3]}******{tckn[-2:]}"  # as the API masked it
    assert await page.text_content("#k-soyad") == person(7101)["last_name"]
    assert await page.input_value("#f-institutional_email") == "kisi7101@ornek.edu.tr"  # from the staff list
    assert await page.is_hidden("#durum-bolumu")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone

    # A postal code the API refuses: the message stands next to the field, the input stays as typed.
    await page.fill("#f-registry_number", "A-7101")
    await page.fill("#f-delivery_address-line1", "Üniversite Cad. No: 1, Bilgi İşlem")
    await page.fill("#f-delivery_address-district", "Çankaya")
    await page.fill("#f-delivery_address-city", "Ankara")
    await page.fill("#f-delivery_address-postal_code", "6800")
    await page.click("#kaydet")
    await expect(page.locator("#e-delivery_address-postal_code")).to_have_text("Posta kodu 5 rakamdan oluşur.")
    assert await page.get_attribute("#f-delivery_address-postal_code", "aria-invalid") == "true"
    assert await page.input_value("#f-delivery_address-postal_code") == "6800"
    assert await page.input_value("#f-registry_number") == "A-7101"
    await expect(page.locator("#mesaj")).to_contain_text("Bir alanda")

    await page.fill("#f-delivery_address-postal_code", "06800")
    await page.select_option("#f-card_reader_type", "acr39u")
    await page.check("#f-validity_years-5")
    await page.select_option("#f-prior_certificate_reason", "none")
    await page.click("#kaydet")
    await expect(page.locator("#mesaj")).to_contain_text("Taslak kaydedildi")
    assert await page.text_content("#e-delivery_address-postal_code") == ""

    # Completing without the publication consent and the security word: both are shown at their fields.
    await page.click("#tamamla")
    await expect(page.locator("#e-publish_consent")).to_contain_text("Sertifikam İnternetten yayınlansın")
    await expect(page.locator("#e-security_word")).to_have_text("Bu alan zorunludur.")
    assert await page.is_visible("#form")

    await page.fill("#f-security_word", "Kelebek 42")  # a space: refused
    await page.click("#guvenlik-kaydet")
    await expect(page.locator("#e-security_word")).to_contain_text("4–32 harf veya rakam")
    await page.fill("#f-security_word", "Kelebek42")
    await page.click("#guvenlik-kaydet")
    await expect(page.locator("#mesaj")).to_have_text("Güvenlik sözcüğünüz kaydedildi.")
    assert await page.input_value("#f-security_word") == ""

    await page.check("#f-publish_consent")
    await page.click("#tamamla")
    await expect(page.locator("#durum")).to_have_text("Form tamamlandı")
    assert await page.is_hidden("#duzenleme")
    await expect(page.locator("#imza-talimati")).to_contain_text("ıslak imza")
    await expect(page.locator("#imza-talimati")).to_contain_text("NES yetkilisine")

    async with page.expect_download() as download_info:
        await page.click("#pdf-indir")
    download = await download_info.value
    assert download.suggested_filename == "nes-basvuru.pdf"
    saved = tmp_path / "nes-basvuru.pdf"
    await download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    # What the page saved is what the API holds.
    mine = (await client.get("/v1/applicant/application", headers=await flow.sign_in(inv))).json()
    assert mine["status"] == "form_completed"
    assert mine["form"]["delivery_address"]["postal_code"] == "06800"
    assert mine["form"]["validity_years"] == 5 and mine["form"]["publish_consent"] is True
    assert mine["form"]["security_word_set"] is True and mine["form"]["mobile"] == "+905320007101"

    # A reload keeps the link (this tab's sessionStorage) but not the session: the password again,
    # and a completed form opens on its status, not on the form.
    await page.reload()
    await expect(page.locator("#parola")).to_be_visible()
    assert await page.evaluate("Object.keys(sessionStorage)") == ["esign.applicant.linkToken"]
    await sign_in(page, inv.password)
    await expect(page.locator("#durum")).to_have_text("Form tamamlandı")
    assert await page.is_hidden("#duzenleme") and await page.is_visible("#pdf-indir")
    await page.click("#duzenle")  # may still be reopened until the signed paper arrives
    await expect(page.locator("#f-delivery_address-postal_code")).to_have_value("06800")
    await expect(page.locator("#yeniden-tamamla")).to_be_visible()

    # A session that ran out (30 minutes) asks for the password again; the link is still there.
    await page.route(
        "**/v1/applicant/application/form",
        lambda route: route.fulfill(
            status=401, content_type="application/problem+json", body='{"code": "unauthenticated"}'
        ),
    )
    await page.click("#kaydet")
    await expect(page.locator("#mesaj")).to_contain_text("Oturumunuzun süresi doldu")
    assert await page.is_visible("#parola") and await page.is_hidden("#basvuru")

    assert page.problems == []


async def test_a_wrong_link_or_none_at_all(base_url, page):
    await page.goto(f"{base_url}/apply")
    await expect(page.locator("#baglanti-yok")).to_be_visible()
    assert await page.is_hidden("#giris")

    await page.goto(f"{base_url}/apply#token={secrets.token_urlsafe(32)}")
    await sign_in(page, "Herhangi12345")
    # The API does not say which half was wrong, and neither does the page.
    await expect(page.locator("#mesaj")).to_contain_text("Bağlantı veya erişim parolası hatalı")

    await page.goto(f"{base_url}/apply#token=kisa")  # too short to be a token: the API's 422 on `token`
    await sign_in(page, "Herhangi12345")
    await expect(page.locator("#mesaj")).to_contain_text("Bağlantı eksik veya bozuk")
    await expect(page.locator("#baglanti-yok")).to_be_visible()
    assert page.problems == []


async def test_too_many_wrong_passwords_lock_the_invitation(base_url, page, flow, applications_settings):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(7102)]))["kisi7102@ornek.edu.tr"]
    await page.goto(f"{base_url}/apply#token={inv.token}")
    for attempt in range(applications_settings.sign_in_max_attempts - 1):
        await sign_in(page, f"Yanlis{attempt}Parola")
        # The click shows "Giriş yapılıyor…" at once, so this waits for this attempt's answer.
        await expect(page.locator("#mesaj")).to_contain_text("erişim parolası hatalı")
    await sign_in(page, "SonYanlisParola")
    await expect(page.locator("#mesaj")).to_contain_text("15 dakika kapalı")
    await sign_in(page, inv.password)  # even the right password waits for the lock to end
    await expect(page.locator("#mesaj")).to_contain_text("dakika kapalı")
    assert await page.is_hidden("#basvuru")
    assert page.problems == []

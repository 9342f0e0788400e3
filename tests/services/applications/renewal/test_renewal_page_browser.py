"""The renewal page in a real browser with a real card: headless Debian Chromium opens the link of
the expiry warning e-mail on the applications app (served over HTTP), the real `esign-agent`
program serves a SoftHSM2 token holding the holder's certificate from the test CA, and the holder
goes from "no agent" to "e-approved"; the signed PDF the page downloads is accepted by pyHanko and
by poppler's pdfsig. Then the officer files and the holder approves the Renewal Form from its
link. Every step is photographed at 1280 and 360 px (where nothing may be wider than the
screen); with ESIGN_SCREENSHOTS=1 the pictures replace those in docs/screenshots/, else they go
to a temporary directory (a test run leaves the tree as it was)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from playwright.async_api import Page, expect

from esign import sealing
from esign.embedded import free_port
from esign.local_card import issue_card
from services.applications.app import create_app
from services.notifications.adapters.templates import Renderer
from services.notifications.domain.catalogue import TEMPLATES
from tests.support.agent_process import esign_agent
from tests.support.applications import NOTIFICATIONS_PRIVATE
from tests.support.browser import served, watched_page
from tests.support.pdf_signatures import pdfsig_output, pyhanko_verdict
from tests.support.renewal import produced_holders
from tests.support.services import running

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    return DOCS_SCREENSHOTS if os.environ.get("ESIGN_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
async def site(applications_settings, applications_clock):
    """A second replica of the applications app whose public origin is the address the browser
    uses (card sign-ins are bound to it), served over real HTTP."""
    port = free_port()
    settings = applications_settings.model_copy(update={"public_origin": f"http://127.0.0.1:{port}"})
    async with running(create_app(settings, clock=applications_clock)) as app, served(app, port=port) as url:
        yield url


@pytest.fixture(scope="module")
async def holder(flow_module):
    [h] = await produced_holders(flow_module.flow, flow_module.ca, 1, days_left=30, base=1300)
    return h


@pytest.fixture(scope="module")
def card(holder, test_ca, tmp_path_factory):
    """The holder's card: a SoftHSM2 token with a key made on it and the test CA's certificate
    carrying the serial the operator recorded at production."""
    return issue_card(
        test_ca.directory,
        tmp_path_factory.mktemp("card"),
        full_name=holder.full_name,
        tckn=holder.tckn,
        serial=holder.serial,
        not_before=holder.not_after - timedelta(days=3 * 365),
        not_after=holder.not_after,
    )


@pytest.fixture
async def page(chromium, screenshot_dir):
    async with watched_page(chromium, accept_downloads=True, viewport={"width": 1280, "height": 900}) as page:
        page.screenshot_dir = screenshot_dir
        yield page


async def screenshots(page: Page, name: str) -> None:
    """The page as it is now, at 1280 px and at a phone's 360 px (where nothing may be wider)."""
    directory = page.screenshot_dir
    directory.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=directory / f"{name}-1280.png", full_page=True)
    await page.set_viewport_size({"width": 360, "height": 740})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360, name
    await page.screenshot(path=directory / f"{name}-360.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


def warning_link(site: str) -> str:
    """The renewal link of the expiry warning e-mail, as the notifications service renders it."""
    spec = TEMPLATES["expiry_warning"]
    html = Renderer(renewal_page_url=f"{site}/renew").email("expiry_warning", "tr", spec.sample).html
    [link] = re.findall(r'href="([^"]+)"', html)
    return link


async def test_the_holder_e_approves_with_the_card_and_later_approves_the_renewal_form(
    site, holder, card, page, nc, auth, client, test_ca, tmp_path
):
    agent_port = free_port()
    link = warning_link(site)
    assert link == f"{site}/renew"
    # The agent is on a free port for the test; a real holder's is on the default 47100.
    await page.goto(f"{link}?agent_port={agent_port}")

    # No agent yet: the page says how to start it and what IT must allow, for this very site.
    await expect(page.locator("#araci-yok")).to_be_visible()
    await expect(page.locator("#mesaj")).to_contain_text("E-imza aracısına ulaşılamadı")
    await expect(page.locator("#araci-komut")).to_have_text(
        f"esign-agent run --allow-origin {site} --port {agent_port}"
    )
    await expect(page.locator("#araci-ilke")).to_contain_text(f'LoopbackNetworkAllowedForUrls: ["{site}"]')
    await screenshots(page, "renew-1-agent-missing")

    with esign_agent(
        softhsm_conf=card["conf"], allow_origin=site, port=agent_port, workdir=tmp_path / "agent"
    ) as agent_log:
        await page.click("#tekrar")
        # The one signature certificate on the card is chosen; the name is read from the card.
        await expect(page.locator("#kart-adi")).to_have_text(holder.full_name)
        await expect(page.locator("#sertifika-listesi")).to_contain_text("esign test NES Hizmet Sağlayıcısı")
        await screenshots(page, "renew-2-card")

        await page.click("#dil")
        await expect(page.locator("h1")).to_have_text("E-signature certificate renewal")
        await expect(page.locator("#giris-yap")).to_have_text("Sign in with the card")
        assert await page.evaluate("document.documentElement.lang") == "en"
        await screenshots(page, "renew-2-card-en")
        await page.click("#dil")
        await expect(page.locator("#giris-yap")).to_have_text("Kartla giriş yap")

        await page.fill("#pin", "000000")
        await page.click("#giris-yap")
        await expect(page.locator("#mesaj")).to_have_text("PIN hatalı. Tekrar deneyin.")
        assert await page.input_value("#pin") == ""  # the PIN is not left in the page
        assert await page.is_hidden("#talep")

        await page.fill("#pin", card["tokens"][0]["pin"])
        await page.click("#giris-yap")
        await expect(page.locator("#talep")).to_be_visible()
        assert await page.text_content("#t-tckn") == f"{holder.tckn[:3]}******{holder.tckn[-2:]}"
        assert await page.text_content("#t-ad") == holder.full_name
        assert await page.input_value("#f-delivery_address-city") == "Ankara"
        await screenshots(page, "renew-3-request")

        # A mobile number the API refuses: the message stands at the field, nothing moves on.
        await page.fill("#f-mobile", "12345")
        await page.click("#form-onayla")
        await expect(page.locator("#e-mobile")).to_contain_text("Türkiye'deki bir cep telefonu numarasını girin")
        assert await page.get_attribute("#f-mobile", "aria-invalid") == "true"
        assert await page.is_hidden("#eonay")

        await page.fill("#f-mobile", "0533 765 43 21")
        await page.fill("#f-title", "Doç. Dr.")
        await page.check("#f-validity_years-5")
        await page.click("#form-onayla")  # "Form Onayla"
        await expect(page.locator("#eonay")).to_be_visible()
        summary = await page.text_content("#ozet")
        assert "Doç. Dr." in summary and "+905337654321" in summary and "5 yıl" in summary
        await screenshots(page, "renew-4-eonay")

        await page.fill("#eonay-pin", card["tokens"][0]["pin"])  # the PIN again: "E-Onay"
        await page.click("#eonay-ver")
        await expect(page.locator("#tamam")).to_be_visible(timeout=30_000)
        await expect(page.locator("#tamam-durum")).to_contain_text("tarihinde alındı")
        await expect(page.locator("#tamam")).to_contain_text("NES yetkilisi kurumsal yenileme başvurunuzu")
        await expect(page.locator("#tamam")).to_contain_text("Yenileme Formu")
        await screenshots(page, "renew-5-e-approved")

        async with page.expect_download() as download_info:
            await page.click("#pdf-indir")
        download = await download_info.value
        assert download.suggested_filename == "yenileme-e-onay.pdf"
        signed = Path(await download.path()).read_bytes()

    assert page.problems == []
    assert card["tokens"][0]["pin"] not in agent_log.read_text()

    # The signed request: accepted by pyHanko and, independently, by poppler's pdfsig.
    verdict = await pyhanko_verdict(signed, test_ca.root, test_ca.intermediate)
    assert verdict["intact"] and verdict["trusted"] and verdict["whole_file"], verdict
    assert verdict["serial"] == holder.serial
    report = pdfsig_output(signed, test_ca.root, test_ca.intermediate, tmp_path / "pdfsig")
    assert "Signature is Valid." in report, report
    assert "Certificate is Trusted." in report, report
    assert holder.full_name in report

    # The officer files the renewal; the Renewal Form link reaches the holder (sealed for the
    # notifications service: opened here with its key, as that service does).
    js = nc.jetstream()
    filed = await js.subscribe(
        "applications.renewal.filed",
        stream="APPLICATIONS",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
        ordered_consumer=True,
    )
    officer = auth.officer(holder.institution_id)
    r = await client.get("/v1/renewals", params={"status": "e_approved"}, headers=officer)
    [renewal] = [i for i in r.json()["items"]]
    r = await client.post(
        f"/v1/institutions/{holder.institution_id}/renewal-batches",
        json={"renewal_ids": [renewal["id"]]},
        headers=officer,
    )
    assert r.status_code == 201, r.text
    event = json.loads((await filed.next_msg(timeout=20)).data)["data"]
    await filed.unsubscribe()
    form_link = sealing.unseal(NOTIFICATIONS_PRIVATE, event["sealed_form_secret"])["link"]
    token = form_link.split("#token=", 1)[1]
    assert form_link.startswith(f"{event['form_url_base']}#token=")

    await page.goto(f"{site}/renew/form#token={token}")
    await expect(page.locator("#yenileme-formu")).to_be_visible()
    assert page.url == f"{site}/renew/form"  # the token is out of the address bar
    await expect(page.locator("#yf-unvan")).to_have_text("Doç. Dr.")
    await expect(page.locator("#yf-sure")).to_have_text("5 yıl")
    await screenshots(page, "renew-6-renewal-form")
    await page.click("#yf-onayla")
    await expect(page.locator("#yf-tamam")).to_be_visible()
    await screenshots(page, "renew-7-renewal-form-approved")

    # The link works once.
    await page.goto(f"{site}/renew/form#token={token}")
    await expect(page.locator("#mesaj")).to_contain_text("geçersiz ya da kullanılmış")
    assert await page.is_visible("#form-baglanti-yok")

    # Back on /renew with the card: the renewal is resumed where it stands, no second E-Onay.
    with esign_agent(softhsm_conf=card["conf"], allow_origin=site, port=agent_port, workdir=tmp_path / "again"):
        await page.goto(f"{site}/renew?agent_port={agent_port}")
        await page.fill("#pin", card["tokens"][0]["pin"])
        await page.click("#giris-yap")
        await expect(page.locator("#tamam-durum")).to_have_text(
            "Yenileme Formunuzu onayladınız; başvurunuz Kamu SM'de üretim sırasında."
        )
        assert await page.is_hidden("#talep") and await page.is_hidden("#eonay")
    assert page.problems == []


@pytest.fixture(scope="module")
async def early_holder(flow_module):
    """A holder whose certificate ends in 200 days: the 90-day renewal window is not open yet."""
    [h] = await produced_holders(flow_module.flow, flow_module.ca, 1, days_left=200, base=1310)
    return h


async def test_a_card_outside_the_window_is_refused_in_words_with_the_date_it_opens(
    site, early_holder, test_ca, page, tmp_path
):
    card = issue_card(
        test_ca.directory,
        tmp_path / "card",
        full_name=early_holder.full_name,
        tckn=early_holder.tckn,
        serial=early_holder.serial,
        not_before=early_holder.not_after - timedelta(days=3 * 365),
        not_after=early_holder.not_after,
    )
    agent_port = free_port()
    with esign_agent(softhsm_conf=card["conf"], allow_origin=site, port=agent_port, workdir=tmp_path / "agent"):
        await page.goto(f"{site}/renew?agent_port={agent_port}")
        await expect(page.locator("#kart-adi")).to_have_text(early_holder.full_name)
        await page.fill("#pin", card["tokens"][0]["pin"])
        await page.click("#giris-yap")
        opens = early_holder.not_after - timedelta(days=90)
        message = page.locator("#mesaj")
        await expect(message).to_contain_text("en çok 3 ay önce yapılabilir")
        await expect(message).to_contain_text(f"{opens.year} tarihinden itibaren yenileyebilirsiniz")
        await page.click("#dil")  # the same refusal, in English
        await expect(message).to_contain_text("You can renew from")
        assert await page.is_hidden("#talep")
    assert page.problems == []


async def test_an_agent_that_never_answers_is_explained_as_the_browsers_local_network_prompt(site, page):
    """A listener that accepts the connection and never answers stands in for what cannot be
    shown headless: Chrome holding the WebSocket while its Local Network Access prompt waits."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        await page.goto(f"{site}/renew?agent_port={port}")
        await expect(page.locator("#mesaj")).to_contain_text("yerel ağ erişimi izni", timeout=10_000)
        await expect(page.locator("#araci-ilke")).to_contain_text("LoopbackNetworkAllowedForUrls")
    finally:
        silent.close()
        await silent.wait_closed()

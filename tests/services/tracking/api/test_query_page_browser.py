"""The public "Gönderi Sorgulama" page in a real browser: headless Chromium opens the page served
by the tracking app over HTTP (uvicorn on a free port), the tracking number comes from the link in
the handed-to-courier message, the holder types four digits and sees the timeline and the city."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.browser import served


@pytest.fixture(scope="module")
async def base_url(tracking_app):
    async with served(tracking_app) as url:
        yield url


async def test_the_holder_follows_the_parcel_on_the_public_page(base_url, chromium, shipments):
    parcel = await shipments.new(mobile="+905327654321", city="Trabzon")
    await shipments.advance(parcel["tracking_number"])
    page = await chromium.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))  # an exception in the page's script
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        await page.goto(f"{base_url}/gonderi-sorgulama?takip={parcel['tracking_number']}")
        assert await page.input_value("#takip") == parcel["tracking_number"]  # from the link

        await page.fill("#son4", "1111")
        await page.click("#sorgula")
        # Locator waits, not wait_for_function: the page's CSP forbids the eval that one needs.
        await expect(page.locator("#mesaj")).to_contain_text("bulunamadı")
        assert await page.is_hidden("#sonuc")

        await page.fill("#son4", "4321")
        await page.click("#sorgula")
        await page.wait_for_selector("#sonuc:not([hidden])")
        assert await page.text_content("#durum") == "Kargoya verildi"
        assert await page.text_content("#il") == "Trabzon"
        steps = await page.locator("#adimlar li").all_text_contents()
        assert [s.split(" — ")[1] for s in steps] == ["Gönderi oluşturuldu", "Kargoya verildi"]
        assert problems == []
    finally:
        await page.close()

"""The interactive API docs in a real browser with no way out: headless Chromium opens /docs
with every request to another host refused, and Swagger UI still renders the service's API
(its assets are the platform's own, pinned), without a console error or a CSP violation."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.browser import served


@pytest.fixture(scope="module")
async def base_url(applications_app):
    async with served(applications_app) as url:
        yield url


async def test_the_docs_render_offline_from_the_services_own_assets(chromium, base_url):
    context = await chromium.new_context()
    page = await context.new_page()
    elsewhere, problems = [], []

    async def only_this_origin(route):
        if route.request.url.startswith(base_url + "/"):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_this_origin)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        await page.goto(f"{base_url}/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("esign applications", timeout=15_000)
        # An operation of the API is listed: the OpenAPI document was loaded and rendered.
        await expect(page.locator(".opblock-summary-path", has_text="/v1/institutions").first).to_be_visible()
    finally:
        await context.close()
    assert elsewhere == [] and problems == []

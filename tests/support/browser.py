"""Headless Debian Chromium for the browser tests (Playwright drives it; no browser is downloaded),
and a service app served over real HTTP for it to open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright

from esign.embedded import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@asynccontextmanager
async def headless_chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt install chromium)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def watched_page(browser: Browser, **context_options) -> AsyncIterator[Page]:
    """A page in a context of its own whose ``problems`` list collects what the page must never
    show: an exception in its script, a CSP violation, any other error it logs. Chromium also
    logs every 4xx answer ("Failed to load resource") and a WebSocket nobody answers as errors:
    tests provoke those on purpose (a wrong password, no agent running), so they are left out."""
    context = await browser.new_context(**context_options)
    page = await context.new_page()
    page.problems = []

    def console(message) -> None:
        if "Content Security Policy" in message.text or (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and "WebSocket connection" not in message.text
        ):
            page.problems.append(message.text)

    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("console", console)
    try:
        yield page
    finally:
        await context.close()


@asynccontextmanager
async def served(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """The running app (its lifespan is the caller's fixture's) on ``port`` (else a free one);
    yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    deadline = asyncio.get_running_loop().time() + 10
    while not server.started:
        if task.done() or asyncio.get_running_loop().time() > deadline:
            server.should_exit = True
            raise AssertionError("uvicorn did not start")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task

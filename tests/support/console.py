"""What the staff console's browser tests share: a page that records every script error and CSP
violation, the axe-core accessibility scan run inside the page, and the screenshots at 1280 and
360 px that docs/console.md points to. Screenshots are always taken; with ESIGN_SCREENSHOTS=1 they
replace those in docs/screenshots/console/, else they go to a scratch folder, so an ordinary test
run leaves the tree as it was."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.async_api import BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots" / "console"
SCREENSHOTS = (
    DOCS_SCREENSHOTS
    if os.environ.get("ESIGN_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "esign-console-screenshots"
)
WIDE, NARROW = 1280, 360


def watch(page: Page) -> Page:
    """Collects in ``page.problems`` an exception in the page's script, a CSP violation, or any
    other error the page logs. Chromium also logs every 4xx answer as "Failed to load resource":
    those are the refusals the tests provoke on purpose, so they are left out."""
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.on(
        "console",
        lambda m: (
            page.problems.append(f"console: {m.text}")
            if "Content Security Policy" in m.text
            or (m.type == "error" and not m.text.startswith("Failed to load resource"))
            else None
        ),
    )
    return page


async def new_page(context: BrowserContext) -> Page:
    page = watch(await context.new_page())
    # The CSP's own report, in case a violation is not also logged to the console.
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return page


async def axe_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now. The library is
    evaluated through the DevTools protocol (not a <script> tag) so the page's strict CSP stays on."""
    assert AXE.exists(), "axe-core is missing: `make install-test` installs it"
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = await page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
    )
    return [v for v in result if v["impact"] in {"serious", "critical"}]


async def check_screen(page: Page, name: str) -> None:
    """The screen as it is now: no serious/critical axe violation, nothing wider than a 360 px
    phone, and a screenshot at each width for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    violations = await axe_violations(page)
    assert not violations, f"{name}: accessibility violations {violations}"
    await page.screenshot(path=SCREENSHOTS / f"{name}-{WIDE}.png", full_page=True)
    await page.set_viewport_size({"width": NARROW, "height": 740})
    try:
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW, f"{name}: the page is {width} px wide at {NARROW} px"
        assert not await axe_violations(page), f"{name}: accessibility violations at {NARROW} px"
        await page.screenshot(path=SCREENSHOTS / f"{name}-{NARROW}.png", full_page=True)
    finally:
        await page.set_viewport_size({"width": WIDE, "height": 900})

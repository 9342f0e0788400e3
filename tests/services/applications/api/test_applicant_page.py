"""The applicant's page over plain HTTP: the e-mailed link's path is served, in Turkish, with its
own script and style sheet only, under a strict Content-Security-Policy."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from services.applications.config import ApplicationsSettings

ASSETS = {"/apply": "text/html", "/apply/app.js": "text/javascript", "/apply/style.css": "text/css"}


@pytest.mark.parametrize("path", sorted(ASSETS))
async def test_page_and_assets_carry_strict_security_headers(client, path):
    r = await client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == ASSETS[path]
    csp = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split("; ")}
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]  # no 'unsafe-inline', no CDN
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["form-action"] == ["'none'"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-cache"


async def test_the_default_invitation_link_opens_this_page(client):
    portal = ApplicationsSettings.model_fields["portal_url"].default
    r = await client.get(urlsplit(portal).path)
    assert r.status_code == 200 and "Erişim parolası" in r.text


async def test_the_page_is_turkish_and_runs_no_inline_code(client):
    html = (await client.get("/apply")).text
    assert 'lang="tr"' in html and "Başvuru" in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts == [(' src="/apply/app.js" defer', "")]
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    assert 'href="/apply/style.css"' in html
    # Every form field has a label, and there is a live region for messages.
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html):
        assert f'for="{field_id}"' in html, field_id
    assert 'aria-live="polite"' in html


async def test_the_script_keeps_secrets_out_of_urls_logs_and_lasting_storage(client):
    script = (await client.get("/apply/app.js")).text
    assert "/v1/applicant/sessions" in script and "history.replaceState" in script
    assert not re.search(r"\bconsole\.\w+\(", script)
    assert "localStorage" not in script and "document.cookie" not in script
    assert "innerHTML" not in script  # text is inserted with textContent only
    # The only thing kept in sessionStorage is the link token.
    assert set(re.findall(r"sessionStorage\.\w+\(([^,)]+)", script)) == {"LINK_TOKEN_KEY"}


async def test_nothing_else_is_served_under_the_page(client):
    assert (await client.get("/apply/other.js")).status_code == 404
    assert (await client.post("/apply")).status_code == 405

"""The renewal page over plain HTTP: /renew and /renew/form serve one Turkish page with its own
script, the shared agent client and a style sheet, under a strict Content-Security-Policy that
lets it reach nothing but its own API and the signing agent on the loopback address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.applications.api.renewal_page import ROUTER

ASSETS = {
    "/renew": "text/html",
    "/renew/form": "text/html",
    "/renew/app.js": "text/javascript",
    "/renew/agent-client.js": "text/javascript",
    "/renew/style.css": "text/css",
}
PROTOCOL_DOC = Path(__file__).resolve().parents[4] / "docs" / "agent-protocol.md"


@pytest.mark.parametrize("path", sorted(ASSETS))
async def test_page_and_assets_carry_strict_security_headers(client, path):
    r = await client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == ASSETS[path]
    csp = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split("; ")}
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    # its API, and esign-agent on the loopback address (any port: IT may move it from 47100)
    assert csp["connect-src"] == ["'self'", "ws://127.0.0.1:*"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["form-action"] == ["'none'"]
    assert r.headers["referrer-policy"] == "no-referrer"


async def test_the_applicant_page_still_may_connect_only_to_its_own_origin(client):
    csp = (await client.get("/apply")).headers["content-security-policy"]
    assert "connect-src 'self';" in csp


async def test_both_views_are_one_turkish_page_without_inline_code(client):
    html = (await client.get("/renew")).text
    assert (await client.get("/renew/form")).text == html
    assert 'lang="tr"' in html and "E-imza sertifikası yenileme" in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts == [(' src="/renew/agent-client.js" defer', ""), (' src="/renew/app.js" defer', "")]
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)
    assert "http://" not in html and "https://" not in html
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html):
        assert f'for="{field_id}"' in html, field_id
    assert 'aria-live="polite"' in html


async def test_every_text_of_the_page_has_its_english(client):
    html = (await client.get("/renew")).text
    script = (await client.get("/renew/app.js")).text
    english = script[script.index("const EN = {") : script.index("\n};", script.index("const EN = {"))]
    keys = set(re.findall(r'data-t="([a-z0-9_]+)"', html))
    missing = {k for k in keys if not re.search(rf"^\s+{k}:", english, re.M)}
    assert keys and not missing


async def test_every_refusal_code_of_the_renewal_api_has_its_own_words(client):
    """The codes the contract (docs/renewal.md) lists, and the agent's (docs/agent-protocol.md)."""
    script = (await client.get("/renew/app.js")).text
    server = [
        "origin_mismatch", "challenge_invalid", "signature_invalid", "certificate_untrusted", "certificate_expired",
        "certificate_not_yet_valid", "certificate_revoked", "certificate_key_usage", "certificate_unknown",
        "certificate_subject_mismatch", "renewal_window_not_open", "certificate_already_renewed",
        "renewal_not_editable", "certificate_mismatch", "preparation_invalid", "renewal_form_link_invalid",
        "renewal_form_link_expired",
    ]  # fmt: skip
    agent = re.findall(r"^\| `([A-Z_]+)` \|", PROTOCOL_DOC.read_text(encoding="utf-8"), re.M)
    assert "PIN_INCORRECT" in agent
    handled_elsewhere = {"ORIGIN_NOT_ALLOWED", "BAD_REQUEST", "INTERNAL"}  # unavailable / a_other
    for code in server:
        assert f"  p_{code}: [" in script, code
    for code in set(agent) - handled_elsewhere:
        assert f"  a_{code}: [" in script, code


async def test_the_script_keeps_the_pin_and_tokens_out_of_urls_logs_and_lasting_storage(client):
    script = (await client.get("/renew/app.js")).text
    assert not re.search(r"\bconsole\.\w+\(", script) and "innerHTML" not in script
    assert "document.cookie" not in script
    assert set(re.findall(r"localStorage\.\w+\(([^,)]+)", script)) == {"LANG_KEY"}  # the language only
    assert set(re.findall(r"sessionStorage\.\w+\(([^,)]+)", script)) == {"FORM_TOKEN_KEY"}
    assert 'field.value = ""' in script  # the PIN field is emptied as soon as it is read


def test_the_agent_client_served_is_the_one_the_protocol_documents():
    """One client: docs/agent-protocol.md shows it (and tests/agent runs it in Chromium), the
    page loads esign/static/agent-client.js; they must not drift apart."""
    match = re.search(r"```js\n(// agent-client\.js.*?)```", PROTOCOL_DOC.read_text(encoding="utf-8"), re.S)
    served = next(r for r in ROUTER.routes if r.path == "/renew/agent-client.js")
    assert served and match
    from esign.pages import AGENT_CLIENT

    assert AGENT_CLIENT.read_text(encoding="utf-8") == match[1]

"""The console's local sign-in and cookie session through the one origin, on the platform as
`esign up` runs it (nginx's auth_request asking the applications service's session check):
the cookie alone reaches the staff APIs, state-changing calls need the CSRF header, a bearer
token still passes untouched, sign-out ends the session on the server, and the session store
holds neither the cookie nor the token in the clear."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

import httpx
import pytest

from esign.jetstream import connect
from tests.support.applications import person, roster_csv

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(running_platform):
    return running_platform


@pytest.fixture(scope="module")
def institution(platform) -> str:
    with httpx.Client(base_url=platform.origin, timeout=30) as client:
        r = client.post("/v1/institutions", json={"name": "Oturum Üniversitesi"}, headers=platform.token("ca_operator"))
        assert r.status_code == 201, r.text
        return r.json()["id"]


def browser(platform) -> httpx.Client:
    """A client that keeps cookies like a browser (and sends no Authorization header)."""
    return httpx.Client(base_url=platform.origin, timeout=30)


def sign_in(client: httpx.Client, **form: str) -> httpx.Response:
    return client.post("/auth/local", data=form)


def test_login_leads_to_the_marked_local_page_and_never_off_the_origin(platform, institution):
    with browser(platform) as client:
        r = client.get("/auth/login", params={"next": "/console/basvurular"})
        assert r.status_code == 302 and r.headers["location"] == "/auth/local?next=%2Fconsole%2Fbasvurular"
        for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            r = client.get("/auth/login", params={"next": evil})
            assert r.headers["location"] == "/auth/local?next=%2Fconsole%2F", evil
        page = client.get("/auth/local", params={"next": "/console/"})
        assert page.status_code == 200 and "YEREL GELİŞTİRME GİRİŞİ" in page.text
        assert "Oturum Üniversitesi" in page.text and institution in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"] and "<script" not in page.text
        assert client.get("/auth/local/style.css").status_code == 200
        # An unexpected OIDC callback has nothing to do locally.
        assert client.get("/auth/callback", params={"code": "x", "state": "y"}).status_code == 404


def test_an_officer_without_an_institution_is_refused_and_gets_no_session(platform):
    with browser(platform) as client:
        r = sign_in(client, role="institution_officer", institution_id="", next="/console/")
        # The form's answer: the page again with the error next to the field, and no session.
        assert r.status_code == 200 and "Kurum sorumlusu için bir kurum seçin" in r.text
        assert 'aria-invalid="true"' in r.text
        assert "esign_session" not in r.headers.get("set-cookie", "")
        r = sign_in(client, role="institution_officer", institution_id="6f1c2d9e-0000-4000-8000-000000000000")
        assert r.status_code == 200 and 'id="error"' in r.text
        # Another site's page posting the form (login CSRF) signs nobody in.
        r = client.post("/auth/local", data={"role": "ca_operator"}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["code"] == "cross_site_sign_in"
        r = client.post(
            "/auth/local", data={"role": "ca_operator"}, headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"}
        )
        assert r.status_code == 403 and "esign_session" not in client.cookies
        assert client.get("/auth/session").json()["code"] == "not_signed_in"


def test_the_cookie_session_reaches_the_staff_apis_with_csrf_on_changes(platform, institution):
    with browser(platform) as client:
        r = sign_in(
            client,
            role="institution_officer",
            institution_id=institution,
            subject="nes@oturum.edu.tr",
            name="Nes Yetkilisi",
            next="/console/ana-sayfa",
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/ana-sayfa"
        cookie = r.headers["set-cookie"]
        assert "esign_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http on localhost only
        session = client.get("/auth/session")
        assert session.status_code == 200 and session.headers["cache-control"] == "no-store"
        me = session.json()
        assert me["role"] == "institution_officer" and me["institution_id"] == institution
        assert me["institution_name"] == "Oturum Üniversitesi" and me["subject"] == "nes@oturum.edu.tr"
        assert me["name"] == "Nes Yetkilisi" and me["csrf_token"]

        # Reading with the cookie alone: nginx asked the session check and sent the bearer token.
        summary = client.get("/v1/applications/summary")
        assert summary.status_code == 200, summary.text
        assert client.get(f"/v1/institutions/{institution}").json()["name"] == "Oturum Üniversitesi"

        # Changing without the CSRF header: refused before the service, nothing stored.
        staff_list = roster_csv([person(71), person(72)])
        upload = {"content": staff_list, "headers": {"Content-Type": "text/csv"}}
        refused = client.post(f"/v1/institutions/{institution}/roster", **upload)
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        assert refused.headers["content-type"] == "application/problem+json"
        wrong = client.post(
            f"/v1/institutions/{institution}/roster",
            content=staff_list,
            headers={"Content-Type": "text/csv", "X-CSRF-Token": me["csrf_token"] + "x"},
        )
        assert wrong.status_code == 403
        assert client.get("/v1/applications/summary").json() == summary.json()
        done = client.post(
            f"/v1/institutions/{institution}/roster",
            content=staff_list,
            headers={"Content-Type": "text/csv", "X-CSRF-Token": me["csrf_token"]},
        )
        assert done.status_code == 200 and done.json()["created"] == 2, done.text

        # The session is the officer's: what the officer may not do stays refused by the service.
        assert (
            client.post(
                "/v1/institutions", json={"name": "Başka"}, headers={"X-CSRF-Token": me["csrf_token"]}
            ).status_code
            == 403
        )
        # A caller's own bearer token passes untouched, cookie or not (curl and API use unchanged).
        operator = client.post(
            "/v1/institutions", json={"name": "Başka Üniversite"}, headers=platform.token("ca_operator")
        )
        assert operator.status_code == 201, operator.text
        # Pages and applicant APIs never see the console's session.
        applicant = client.post("/v1/applicant/sessions", json={"token": "x", "password": "y"})
        assert applicant.status_code != 403 and applicant.json()["code"] != "csrf_failed"


def test_operators_reach_every_services_dead_letters_through_their_session(platform, institution):
    """/v1/dead-letters/<service> is an ordinary staff route (in the Ingress too): the session's
    token reaches the service, which checks the operator role itself."""
    with browser(platform) as client:
        for service in ("applications", "notifications", "tracking"):
            anonymous = client.get(f"/v1/dead-letters/{service}")
            assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated", service
        sign_in(client, role="ca_operator")
        for service in ("applications", "notifications", "tracking"):
            r = client.get(f"/v1/dead-letters/{service}")
            assert r.status_code == 200 and isinstance(r.json(), list), (service, r.text)
            # The internal /v1/ops stays internal; locally /ops/<service>/ reaches only its /v1/ops/.
            for elsewhere in ("metrics", "livez", "v1/opsx", "v1/applications", f"v1/dead-letters/{service}"):
                hidden = client.get(f"/ops/{service}/{elsewhere}")
                assert hidden.status_code == 404 and hidden.json()["code"] == "not_found", (service, elsewhere)
            assert client.get(f"/v1/ops/dead-letters/{service}").status_code == 404
        csrf_missing = client.post(f"/v1/dead-letters/applications/{uuid.uuid4()}/replay")
        assert csrf_missing.status_code == 403 and csrf_missing.json()["code"] == "csrf_failed"
        csrf = client.get("/auth/session").json()["csrf_token"]
        unknown = client.post(f"/v1/dead-letters/tracking/{uuid.uuid4()}/replay", headers={"X-CSRF-Token": csrf})
        assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    with browser(platform) as officer:
        sign_in(officer, role="institution_officer", institution_id=institution)
        assert officer.get("/v1/dead-letters/tracking").status_code == 403


async def test_a_session_ended_in_the_store_is_expired_for_the_proxy(platform, institution):
    with browser(platform) as client:
        sign_in(client, role="ca_operator")
        assert client.get("/v1/institutions").status_code == 200
        await platform.expire_console_session(client.cookies["esign_session"])
        r = client.get("/v1/institutions")
        assert r.status_code == 401 and r.json()["code"] == "session_expired"


def test_the_session_check_is_not_exposed(platform):
    with browser(platform) as client:
        r = client.get("/auth/check")
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_sign_out_ends_the_session_on_the_server(platform, institution):
    with browser(platform) as client:
        sign_in(client, role="ca_operator", next="/console/")
        csrf = client.get("/auth/session").json()["csrf_token"]
        session_id = client.cookies["esign_session"]
        refused = client.post("/auth/logout")
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        r = client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and 'esign_session=""' in r.headers["set-cookie"]
        assert r.json() == {"redirect_to": "/auth/login?next=%2Fconsole%2F"}  # no provider to sign out of
    # The old cookie, replayed (e.g. copied before sign-out), no longer opens anything.
    with httpx.Client(base_url=platform.origin, timeout=30, cookies={"esign_session": session_id}) as replay:
        expired = replay.get(f"/v1/institutions/{institution}")
        assert expired.status_code == 401 and expired.json()["code"] == "session_expired"
        assert replay.get("/auth/session").json()["code"] == "session_expired"


def test_the_session_store_holds_neither_the_cookie_nor_the_token_in_the_clear(platform):
    with browser(platform) as client:
        sign_in(client, role="ca_operator", subject="gizli@kamusm.gov.tr")
        session_id = client.cookies["esign_session"]

    async def stored() -> dict[str, bytes]:
        nc = await connect(platform.nats_url, name="test-reader")
        try:
            kv = await nc.jetstream().key_value("esign_console_sessions")
            return {key: (await kv.get(key)).value for key in await kv.keys()}
        finally:
            await nc.close()

    entries = asyncio.run(stored())
    assert hashlib.sha256(session_id.encode()).hexdigest() in entries
    assert session_id not in json.dumps({k: v.decode() for k, v in entries.items()})
    for value in entries.values():
        assert b"eyJ" not in value  # no JWT (header base64 starts so) in the clear
    log = (platform.data_dir / "applications.log").read_text()
    assert session_id not in log and "Bearer" not in log


async def test_in_a_browser_the_local_page_signs_in_and_scripts_cannot_read_the_session(platform, chromium):
    context = await chromium.new_context(viewport={"width": 360, "height": 740})
    page = await context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    # Chromium logs every 4xx as "Failed to load resource"; which ones failed is checked below.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None
        ),
    )
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        await page.goto(f"{platform.origin}/auth/login?next=/auth/session")
        assert page.url.startswith(f"{platform.origin}/auth/local")
        await page.get_by_label("Rol").select_option("ca_operator")
        await page.get_by_label("Kullanıcı").fill("tarayici@kamusm.gov.tr")
        await page.locator("#sign-in").click()
        await page.wait_for_url(f"{platform.origin}/auth/session")
        me = json.loads(await page.locator("body").inner_text())
        assert me["role"] == "ca_operator" and me["subject"] == "tarayici@kamusm.gov.tr"
        assert "esign_session" not in await page.evaluate("document.cookie")  # HttpOnly
        cookies = {c["name"]: c for c in await context.cookies()}
        assert cookies["esign_session"]["httpOnly"] and cookies["esign_session"]["sameSite"] == "Lax"
    finally:
        await context.close()
    assert problems == []
    assert {url.removeprefix(platform.origin) for url in failed} <= {"/favicon.ico"}, failed

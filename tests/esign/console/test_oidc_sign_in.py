"""The console's OpenID Connect sign-in against a real provider (oidc-provider from npm, run by
Node.js), through the real nginx configuration `esign up` generates, in front of the real
applications service: sign-in with PKCE, a wrong or replayed state, an expired session, sign-out
(here first, then RP-initiated at the provider), and officers with and without an institution
claim. The provider's access tokens (JWTs with the esign claims) are what the APIs receive; the
browser only ever holds the session cookie."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest

from esign.embedded import free_port
from esign.local_stack import LocalProxy
from esign.routes import SIGN_IN_SERVICE, nginx_config
from services.applications.app import DEFINITION, create_app
from services.applications.config import ApplicationsSettings
from tests.support.applications import FIELD_KEYS, FIELD_LOOKUP_KEY, NOTIFICATIONS_PUBLIC
from tests.support.browser import served
from tests.support.oidc import openid_provider, sign_in_at_provider
from tests.support.services import migrated_database, own_nats, running

INSTITUTION = uuid.UUID("5b0c9a3e-2f55-4c1e-9d0a-6f1f2d3c4b5a")
ACCOUNTS = {
    "operator": {"esign_role": "ca_operator", "name": "Kamu SM Operatörü"},
    "officer": {"esign_role": "institution_officer", "institution_id": str(INSTITUTION), "name": "Nes Yetkilisi"},
    "officer-without-institution": {"esign_role": "institution_officer", "name": "Kurumsuz Yetkili"},
    "applicant": {"esign_role": "applicant"},
}


@pytest.fixture(scope="module")
async def stack(postgres, scratch_dir):
    """nginx on the one origin → the applications service (hosting the console) ← the provider."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with (
        openid_provider(redirect_uri=f"{origin}/auth/callback", accounts=ACCOUNTS) as provider,
        own_nats(scratch_dir, "console-oidc") as nats,
    ):
        settings = ApplicationsSettings(
            database_url=await migrated_database(postgres, "esign_applications_console", DEFINITION.migrations_dir),
            nats_url=nats.url,
            oidc_issuer=provider.issuer,
            oidc_jwks_url=f"{provider.issuer}/jwks",
            oidc_client_id=provider.client_id,
            oidc_client_secret=provider.client_secret,
            oidc_redirect_url=f"{origin}/auth/callback",
            oidc_scopes="openid profile esign",
            console_secret="console-secret-for-tests-0123456789",
            applicant_token_secret="applicant-token-secret-for-tests-0123456789",
            notifications_public_key=NOTIFICATIONS_PUBLIC,
            field_keys=FIELD_KEYS,
            field_lookup_key=FIELD_LOOKUP_KEY,
        )
        async with running(create_app(settings)) as app, served(app) as app_url:
            config = nginx_config(
                listen=f"127.0.0.1:{port}",
                upstreams={SIGN_IN_SERVICE: urlsplit(app_url).netloc},
                run_dir=scratch_dir / "nginx-console-oidc",
                sign_in_service=SIGN_IN_SERVICE,
            )
            proxy = LocalProxy(scratch_dir / "nginx-console-oidc", config).start()
            try:
                await _until_listening(origin)
                app.state.test_origin = origin
                app.state.oidc_issuer = provider.issuer
                yield app
            finally:
                proxy.stop()


async def _until_listening(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                await client.get(url)
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
    raise AssertionError("nginx is not listening")


def browser(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=app.state.test_origin, timeout=30)


async def sign_in(client: httpx.AsyncClient, login: str, next_path: str = "/console/") -> httpx.Response:
    start = await client.get("/auth/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    back = await sign_in_at_provider(client, start.headers["location"], login=login)
    return await client.get(back.headers["location"])


async def test_an_operator_signs_in_with_pkce_and_the_apis_take_the_providers_token(stack):
    async with browser(stack) as client:
        start = await client.get("/auth/login", params={"next": "/console/kurumlar"})
        authorize = urlsplit(start.headers["location"])
        params = parse_qs(authorize.query)
        assert authorize.netloc != urlsplit(stack.state.test_origin).netloc  # off to the provider
        assert params["code_challenge_method"] == ["S256"] and params["code_challenge"][0]
        assert params["response_type"] == ["code"] and params["state"][0] and params["nonce"][0]
        assert "code_verifier" not in params
        # With a provider, the local sign-in page does not exist.
        assert (await client.get("/auth/local")).status_code == 404

        back = await sign_in_at_provider(client, start.headers["location"], login="operator")
        done = await client.get(back.headers["location"])
        assert done.status_code == 303 and done.headers["location"] == "/console/kurumlar", done.text
        assert "HttpOnly" in done.headers["set-cookie"] and "SameSite=lax" in done.headers["set-cookie"]
        me = (await client.get("/auth/session")).json()
        assert me["role"] == "ca_operator" and me["subject"] == "operator" and me["name"] == "Kamu SM Operatörü"
        assert me["institution_id"] is None

        created = await client.post(
            "/v1/institutions", json={"name": "OIDC Üniversitesi"}, headers={"X-CSRF-Token": me["csrf_token"]}
        )
        assert created.status_code == 201, created.text
        listed = (await client.get("/v1/institutions")).json()
        assert "OIDC Üniversitesi" in [i["name"] for i in listed]


async def test_an_officer_gets_the_institution_from_the_claim(stack):
    async with browser(stack) as client:
        done = await sign_in(client, "officer")
        assert done.status_code == 303, done.text
        me = (await client.get("/auth/session")).json()
        assert me["role"] == "institution_officer" and me["institution_id"] == str(INSTITUTION)
        summary = await client.get("/v1/applications/summary")
        assert summary.status_code == 200, summary.text


async def test_an_officer_without_an_institution_claim_is_refused(stack):
    async with browser(stack) as client:
        refused = await sign_in(client, "officer-without-institution")
        assert refused.status_code == 403 and refused.json()["code"] == "institution_missing"
        assert "esign_session" not in client.cookies
        assert (await client.get("/auth/session")).json()["code"] == "not_signed_in"


async def test_an_applicant_token_does_not_open_the_console(stack):
    async with browser(stack) as client:
        refused = await sign_in(client, "applicant")
        assert refused.status_code in (401, 403) and "esign_session" not in client.cookies


async def test_a_wrong_replayed_or_foreign_state_is_refused(stack):
    async with browser(stack) as client:
        start = await client.get("/auth/login")
        back = await sign_in_at_provider(client, start.headers["location"], login="operator")
        callback = urlsplit(back.headers["location"])
        code = parse_qs(callback.query)["code"][0]
        wrong = await client.get("/auth/callback", params={"code": code, "state": "not-the-state"})
        assert wrong.status_code == 400 and wrong.json()["code"] == "sign_in_state_mismatch"
        # The same callback in another browser (no sign-in cookie of its own): refused, not signed in.
        async with browser(stack) as other:
            foreign = await other.get(f"{callback.path}?{callback.query}")
            assert foreign.status_code == 400 and "esign_session" not in other.cookies
        # The state was used up by the foreign attempt: even the right browser cannot replay it.
        replay = await client.get(f"{callback.path}?{callback.query}")
        assert replay.status_code == 400 and "esign_session" not in client.cookies
        # The provider's refusal comes back as an error, not a session.
        start = await client.get("/auth/login")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        denied = await client.get("/auth/callback", params={"error": "access_denied", "state": state})
        assert denied.status_code == 400 and denied.json()["code"] == "sign_in_failed"


async def test_an_expired_session_sends_back_to_sign_in_and_keeps_nothing(stack):
    console = stack.state.console
    async with browser(stack) as client:
        await sign_in(client, "operator")
        me = (await client.get("/auth/session")).json()
        # The session never outlives the provider's access token (an hour here).
        assert (await client.get("/v1/institutions")).status_code == 200
        real_clock = console.clock
        console.clock = lambda: real_clock() + timedelta(hours=1, seconds=1)
        try:
            expired = await client.get("/v1/institutions")
            assert expired.status_code == 401 and expired.json()["code"] == "session_expired"
            changed = await client.post(
                "/v1/institutions", json={"name": "Geç Kalan"}, headers={"X-CSRF-Token": me["csrf_token"]}
            )
            assert changed.status_code == 401 and changed.json()["code"] == "session_expired"
            assert (await client.get("/auth/session")).json()["code"] == "session_expired"
        finally:
            console.clock = real_clock
        names = [i["name"] for i in (await client.get("/v1/institutions")).json()]
        assert "Geç Kalan" not in names


async def _provider_asks_for_login(client: httpx.AsyncClient) -> bool:
    """Starts a sign-in and follows the provider's redirects to its first page: does it ask who
    you are (no session at the provider), or does it know already?"""
    response = await client.get("/auth/login")
    for _ in range(6):
        if response.status_code not in (302, 303):
            break
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(stack_origin(client)):
            return False  # straight back to the console: the provider still had a session
        response = await client.get(location)
    return 'name="login"' in response.text


def stack_origin(client: httpx.AsyncClient) -> str:
    return str(client.base_url).rstrip("/")


async def test_sign_out_ends_the_session_here_first_and_then_at_the_provider(stack):
    async with browser(stack) as client:
        await sign_in(client, "operator")
        csrf = (await client.get("/auth/session")).json()["csrf_token"]
        session_id = client.cookies["esign_session"]
        assert not await _provider_asks_for_login(client)  # the provider remembers the operator
        refused = await client.post("/auth/logout")
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        signed_out = await client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        assert signed_out.status_code == 200, signed_out.text
        assert 'esign_session=""' in signed_out.headers["set-cookie"]

        # Ended here before the browser goes anywhere: the old cookie opens nothing.
        async with httpx.AsyncClient(
            base_url=stack.state.test_origin, cookies={"esign_session": session_id}, timeout=30
        ) as replay:
            r = await replay.get("/v1/institutions")
            assert r.status_code == 401 and r.json()["code"] == "session_expired"

        # RP-Initiated Logout: the provider's advertised endpoint, the ID token as the hint, and
        # the registered place to come back to.
        discovery = (await client.get(f"{stack.state.oidc_issuer}/.well-known/openid-configuration")).json()
        end = urlsplit(signed_out.json()["redirect_to"])
        assert f"{end.scheme}://{end.netloc}{end.path}" == discovery["end_session_endpoint"]
        params = {k: v[0] for k, v in parse_qs(end.query).items()}
        assert params["post_logout_redirect_uri"] == f"{stack.state.test_origin}/console/"
        assert params["client_id"] == "esign-console"
        hint = jwt.decode(params["id_token_hint"], options={"verify_signature": False})
        assert hint["sub"] == "operator" and hint["aud"] == "esign-console" and hint["iss"] == stack.state.oidc_issuer

        # At the provider: its confirmation page, "yes", and back to the console.
        confirm = await client.get(signed_out.json()["redirect_to"])
        assert confirm.status_code == 200, confirm.text[:300]
        action = re.search(r'<form id="op.logoutForm" method="post" action="([^"]+)"', confirm.text).group(1)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', confirm.text).group(1)
        back = await client.post(urljoin(str(confirm.url), action), data={"xsrf": xsrf, "logout": "yes"})
        assert back.status_code in (302, 303) and back.headers["location"] == f"{stack.state.test_origin}/console/"
        # The provider forgot the operator: signing in again asks who it is.
        assert await _provider_asks_for_login(client)

"""A real OpenID provider for tests: panva's oidc-provider (npm, pinned in package.json here,
installed into node_modules/ by `make install-test`), run with the machine's Node.js, and a
client that goes through its development login and consent pages as a person would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from esign.embedded import free_port

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str


@contextmanager
def openid_provider(
    *,
    redirect_uri: str,
    accounts: dict[str, dict[str, str]],
    audience: str = "esign",
    post_logout_redirect_uri: str | None = None,
) -> Iterator[Provider]:
    """Starts the provider on a free port. ``accounts``: login → claims (``esign_role``,
    ``institution_id``, ``name``) that go into its access tokens. ``post_logout_redirect_uri``
    (registered for RP-initiated logout) defaults to /console/ on the redirect URI's origin."""
    if not (HERE / "node_modules" / "oidc-provider").exists():
        pytest.fail("oidc-provider is missing: `make install-test` installs it (npm ci in tests/support/oidc)")
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", "esign-console", "console-client-secret-for-tests")
    config = {
        "port": port,
        "redirect_uri": redirect_uri,
        "post_logout_redirect_uri": post_logout_redirect_uri or urljoin(redirect_uri, "/console/"),
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "audience": audience,
        "accounts": accounts,
    }
    proc = subprocess.Popen(
        ["node", str(HERE / "provider.mjs")],
        env={**os.environ, "ESIGN_TEST_OIDC": json.dumps(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"oidc-provider exited: {proc.stdout.read()}")
            try:
                if httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("oidc-provider did not start")
            time.sleep(0.1)
        yield provider
    finally:
        proc.terminate()
        proc.wait(10)


_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


async def sign_in_at_provider(client: httpx.AsyncClient, authorize_url: str, *, login: str) -> httpx.Response:
    """From the authorization URL through the provider's login and consent pages, as a browser
    would; returns the redirect back to the relying party (not followed)."""
    response = await client.get(authorize_url)
    for _ in range(12):
        if response.status_code in (302, 303) and "/interaction/" not in response.headers["location"]:
            location = urljoin(str(response.url), response.headers["location"])
            if not location.startswith(str(response.url.copy_with(path="/", query=None, fragment=None))):
                return response  # leaving the provider: back to the relying party
            response = await client.get(location)
            continue
        if response.status_code in (302, 303):
            response = await client.get(urljoin(str(response.url), response.headers["location"]))
            continue
        action = _FORM_ACTION.search(response.text)
        assert response.status_code == 200 and action, response.text[:500]
        prompt = "login" if 'name="login"' in response.text else "consent"
        form = {"prompt": prompt, "login": login, "password": "any"} if prompt == "login" else {"prompt": prompt}
        response = await client.post(urljoin(str(response.url), unescape(action.group(1))), data=form)
    raise AssertionError("the provider never sent the browser back")

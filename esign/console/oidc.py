"""OpenID Connect authorization code flow with PKCE, through Authlib's OAuth 2 client.

Authlib builds the authorization request (state, nonce, S256 code challenge) and redeems the
code at the token endpoint with the verifier. The ID token is checked here with PyJWT against the
provider's JWKS (signature, issuer, audience = our client, expiry, nonce), the way
``esign.auth`` checks API tokens; the access token is then checked by the same ``TokenVerifier``
the services use, so the console signs in exactly who the APIs would accept, with the role and
institution they would read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from esign.console.settings import ConsoleSettings
from esign.problems import Problem


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str
    nonce: str


@dataclass(frozen=True)
class ProviderTokens:
    access_token: str
    id_token: str
    id_claims: dict[str, Any]


def sign_in_failed(detail: str) -> Problem:
    return Problem(400, "sign_in_failed", "Sign-in failed", detail)


class OidcClient:
    def __init__(self, settings: ConsoleSettings, *, issuer: str) -> None:
        if not settings.oidc_redirect_url:
            raise ValueError("OIDC_REDIRECT_URL is needed with OIDC_CLIENT_ID (the public URL of /auth/callback)")
        self._settings = settings
        self._issuer = issuer
        self._discovery_url = settings.oidc_discovery_url or issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._metadata: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    response = await client.get(self._discovery_url)
                    response.raise_for_status()
                    metadata = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise Problem(
                    503, "sign_in_unavailable", "Identity provider unreachable", "Try again in a moment."
                ) from exc
            if metadata.get("issuer") != self._issuer:
                raise ValueError(f"the provider at {self._discovery_url} says it is {metadata.get('issuer')!r}")
            self._jwks = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True)
            self._metadata = metadata
        return self._metadata

    def _client(self) -> AsyncOAuth2Client:
        s = self._settings
        return AsyncOAuth2Client(
            client_id=s.oidc_client_id,
            client_secret=s.oidc_client_secret.get_secret_value() if s.oidc_client_secret else None,
            token_endpoint_auth_method="client_secret_basic" if s.oidc_client_secret else "none",
            scope=s.oidc_scopes,
            redirect_uri=s.oidc_redirect_url,
            code_challenge_method="S256",
            timeout=10,
        )

    async def authorization_request(self) -> AuthorizationRequest:
        metadata = await self.metadata()
        verifier, nonce = generate_token(64), generate_token(32)
        extra = {"resource": self._settings.oidc_resource} if self._settings.oidc_resource else {}
        async with self._client() as client:
            url, state = client.create_authorization_url(
                metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
            )
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier, nonce=nonce)

    async def redeem(self, code: str, *, code_verifier: str, nonce: str) -> ProviderTokens:
        metadata = await self.metadata()
        extra = {"resource": self._settings.oidc_resource} if self._settings.oidc_resource else {}
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    **extra,
                )
            except Exception as exc:  # Authlib's OAuthError, or the HTTP error under it
                raise sign_in_failed("The identity provider did not accept the sign-in code.") from exc
        if not token.get("access_token") or not token.get("id_token"):
            raise sign_in_failed("The identity provider answered without an access token and an ID token.")
        return ProviderTokens(token["access_token"], token["id_token"], self._id_claims(token["id_token"], nonce))

    def post_logout_redirect_url(self) -> str:
        s = self._settings
        if s.oidc_post_logout_redirect_url:
            return s.oidc_post_logout_redirect_url
        redirect = urlsplit(s.oidc_redirect_url or "")
        return f"{redirect.scheme}://{redirect.netloc}/console/"

    async def end_session_url(self, id_token: str | None) -> str | None:
        """Where the browser ends its session at the provider (OpenID Connect RP-Initiated Logout
        1.0), or None when the provider advertises no ``end_session_endpoint``. The ID token is the
        hint that names the session; the provider sends the browser back to the registered
        ``post_logout_redirect_uri`` only with it (or the client id)."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except Problem:  # the provider is down: the local session is gone anyway
            return None
        if not endpoint:
            return None
        params = {
            "client_id": self._settings.oidc_client_id,
            "post_logout_redirect_uri": self.post_logout_redirect_url(),
        }
        if id_token:
            params["id_token_hint"] = id_token
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"

    def _id_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        assert self._jwks is not None, "metadata() first"
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self._settings.oidc_client_id,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "nonce"]},
            )
        except jwt.PyJWTError as exc:
            raise sign_in_failed("The identity provider's ID token is not valid.") from exc
        if claims["nonce"] != nonce:
            raise sign_in_failed("The ID token was not issued for this sign-in.")
        return claims

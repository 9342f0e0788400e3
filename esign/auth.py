"""Bearer JWT authentication and role checks.

Roles: ``ca_operator``; ``institution_officer`` bound to one institution (claim
``institution_id``); ``applicant`` bound to one application (claim ``application_id``); ``renewal_holder`` bound to
one renewal (claim ``application_id``), minted after the holder signed in with the card.
Locally the tokens are HS256 with a configured secret (``esign token`` mints them); in
production the services verify an OIDC issuer's tokens against its JWKS. Applicant tokens are
minted by the applications service itself after sign-in, with its own key.
"""

from __future__ import annotations

import enum
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, overload

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from esign.problems import NotFound, Problem


class Role(enum.StrEnum):
    CA_OPERATOR = "ca_operator"
    INSTITUTION_OFFICER = "institution_officer"
    APPLICANT = "applicant"
    # A holder who proved possession of their card's key: one renewal, minutes long (issue 11).
    RENEWAL_HOLDER = "renewal_holder"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    institution_id: uuid.UUID | None = None
    application_id: uuid.UUID | None = None
    name: str | None = None

    def can_see_institution(self, institution_id: uuid.UUID) -> bool:
        if self.role is Role.CA_OPERATOR:
            return True
        return self.role is Role.INSTITUTION_OFFICER and self.institution_id == institution_id

    def institution_scope(self, requested: uuid.UUID | None) -> uuid.UUID | None:
        """The institution a listing is confined to: an officer's own, always (asking for another
        finds nothing, as if it did not exist); for anyone else what was asked (None: all)."""
        if self.role is Role.INSTITUTION_OFFICER:
            if requested is not None and requested != self.institution_id:
                raise NotFound("institution")
            return self.institution_id
        return requested


LOCAL_ISSUER = "esign-local"


def mint_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    institution_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
    name: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    issuer: str = LOCAL_ISSUER,
    audience: str = "esign",
) -> str:
    if role is Role.INSTITUTION_OFFICER and institution_id is None:
        raise ValueError("an officer token needs an institution")
    if role in (Role.APPLICANT, Role.RENEWAL_HOLDER) and application_id is None:
        raise ValueError("an applicant or renewal token needs an application")
    now = datetime.now(timezone.utc)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "esign_role": role.value,
    }
    if institution_id:
        claims["institution_id"] = str(institution_id)
    if application_id:
        claims["application_id"] = str(application_id)
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm="HS256")


class VerifiedTokenCache:
    """Principals of tokens verified a moment ago, so a client sending the same token with every
    request is verified once per ``lifetime`` rather than per request (decoding and checking a
    JWT twice was a noticeable share of a read's CPU; an RS/ES signature costs far more).

    Keyed by SHA-256 of the token: the token itself is never kept. An entry lives at most
    ``lifetime`` seconds and never past the token's own ``exp``, so an expired token is refused as
    before. Tokens cannot be revoked here (there is no revocation list: a token is good until its
    ``exp``); what the lifetime adds is that a change of the verifier's keys (an OIDC issuer
    retiring a key) reaches tokens already seen up to ``lifetime`` seconds late. Failures are
    never cached. Bounded: past ``max_entries`` the oldest entries go."""

    def __init__(self, *, lifetime: float = 60.0, max_entries: int = 10_000) -> None:
        self._lifetime = lifetime
        self._max_entries = max_entries
        self._entries: dict[bytes, tuple[float, Principal]] = {}

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        until, principal = entry
        if time.time() >= until:
            del self._entries[key]
            return None
        return principal

    def put(self, key: bytes, principal: Principal, expires_at: float) -> None:
        if self._lifetime <= 0:
            return
        if len(self._entries) >= self._max_entries:
            now = time.time()
            self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            while len(self._entries) >= self._max_entries:  # still full of live ones: oldest first
                del self._entries[next(iter(self._entries))]
        self._entries[key] = (min(time.time() + self._lifetime, expires_at), principal)


class TokenVerifier:
    """Checks signature, expiry, audience and issuer, then builds the Principal (remembered for a
    short while, see :class:`VerifiedTokenCache`)."""

    def __init__(
        self,
        *,
        audience: str,
        local_secret: str | None = None,
        oidc_issuer: str | None = None,
        oidc_jwks_url: str | None = None,
        role_claim: str = "esign_role",
        extra_hs256_issuers: dict[str, str] | None = None,
        cache_lifetime: float = 60.0,
    ) -> None:
        self._audience = audience
        self._cache = VerifiedTokenCache(lifetime=cache_lifetime)
        self._hs256: dict[str, str] = dict(extra_hs256_issuers or {})
        if local_secret:
            self._hs256[LOCAL_ISSUER] = local_secret
        self._oidc_issuer = oidc_issuer
        self._jwks = jwt.PyJWKClient(oidc_jwks_url, cache_keys=True) if oidc_jwks_url else None
        self._role_claim = role_claim
        if not self._hs256 and not self._jwks:
            raise ValueError("no way to verify tokens: configure jwt_secret or an OIDC issuer")

    @property
    def role_claim(self) -> str:
        return self._role_claim

    def verify(self, token: str) -> Principal:
        key = self._cache.key(token)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        principal, expires_at = self._verify(token)
        self._cache.put(key, principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            if issuer in self._hs256:
                claims = jwt.decode(
                    token,
                    self._hs256[issuer],
                    algorithms=["HS256"],
                    audience=self._audience,
                    issuer=issuer,
                    options={"require": ["exp", "sub", "iss"]},
                )
            elif self._jwks and issuer == self._oidc_issuer:
                key = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                    audience=self._audience,
                    issuer=issuer,
                    options={"require": ["exp", "sub", "iss"]},
                )
            else:
                raise jwt.InvalidIssuerError("unknown issuer")
            role = Role(_text_claim(claims, self._role_claim))
            principal = Principal(
                subject=_text_claim(claims, "sub"),
                role=role,
                institution_id=_uuid_claim(claims, "institution_id"),
                application_id=_uuid_claim(claims, "application_id"),
                name=_text_claim(claims, "name", required=False),
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthenticated("The token has expired; sign in again.") from exc
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise unauthenticated("The token is not valid.") from exc
        if role is Role.INSTITUTION_OFFICER and principal.institution_id is None:
            raise unauthenticated("An officer token must name its institution.")
        if role in (Role.APPLICANT, Role.RENEWAL_HOLDER) and principal.application_id is None:
            raise unauthenticated("An applicant or renewal token must name its application.")
        return principal, float(claims["exp"])


@overload
def _text_claim(claims: dict[str, Any], name: str) -> str: ...
@overload
def _text_claim(claims: dict[str, Any], name: str, *, required: bool) -> str | None: ...
def _text_claim(claims: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A claim that must be text. A correctly signed token can still carry a number or a list where
    text belongs (an identity provider's mapping gone wrong): that is an invalid token, not a 500."""
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ValueError(f"claim {name!r} must be non-empty text")
    return value


def _uuid_claim(claims: dict[str, Any], name: str) -> uuid.UUID | None:
    text = _text_claim(claims, name, required=False)
    return uuid.UUID(text) if text else None


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "unauthenticated", "Authentication required", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="JWT bearer token (`esign token` mints one locally).")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated("Send `Authorization: Bearer <token>`.")
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


def require(*roles: Role) -> Callable[..., Any]:
    """Dependency: the caller must hold one of ``roles``."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            raise Problem(
                403,
                "forbidden",
                "Not allowed",
                f"This action needs one of the roles: {', '.join(r.value for r in roles)}.",
            )
        return principal

    return dependency

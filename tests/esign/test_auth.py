"""Token verification: locally minted HS256 tokens, and an OIDC issuer's RS256 tokens checked
against its JWKS served over real HTTP on the loopback."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from esign.auth import Role, TokenVerifier, mint_token, unauthenticated
from esign.problems import Problem

SECRET = "local-secret-0123456789-0123456789"


def test_local_token_round_trip_and_officer_binding():
    institution = uuid.uuid4()
    verifier = TokenVerifier(audience="esign", local_secret=SECRET)
    p = verifier.verify(mint_token(SECRET, subject="nes@x", role=Role.INSTITUTION_OFFICER, institution_id=institution))
    assert p.role is Role.INSTITUTION_OFFICER and p.institution_id == institution and p.can_see_institution(institution)
    assert not p.can_see_institution(uuid.uuid4())


@pytest.mark.parametrize(
    "token",
    [
        mint_token("another-secret-0123456789-01234567", subject="x", role=Role.CA_OPERATOR),
        mint_token(SECRET, subject="x", role=Role.CA_OPERATOR, ttl=timedelta(seconds=-5)),
        mint_token(SECRET, subject="x", role=Role.CA_OPERATOR, audience="elsewhere"),
        "not.a.token",
    ],
)
def test_bad_tokens_are_refused(token):
    with pytest.raises(Problem) as exc:
        TokenVerifier(audience="esign", local_secret=SECRET).verify(token)
    assert exc.value.status == 401


def test_an_officer_token_without_institution_is_refused():
    now = datetime.now(timezone.utc)
    token = jwt.encode(
        {
            "iss": "esign-local",
            "aud": "esign",
            "sub": "x",
            "exp": now + timedelta(minutes=5),
            "esign_role": "institution_officer",
        },
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Problem):
        TokenVerifier(audience="esign", local_secret=SECRET).verify(token)


@pytest.fixture
def oidc_issuer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class JWKS(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks"
    server.shutdown()


def test_oidc_tokens_are_checked_against_the_issuers_jwks(oidc_issuer):
    key, jwks_url = oidc_issuer
    verifier = TokenVerifier(audience="esign", oidc_issuer="https://sso.example", oidc_jwks_url=jwks_url)
    now = datetime.now(timezone.utc)
    claims = {
        "iss": "https://sso.example",
        "aud": "esign",
        "sub": "op-1",
        "exp": now + timedelta(minutes=5),
        "esign_role": "ca_operator",
    }
    assert verifier.verify(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})).role is Role.CA_OPERATOR
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Problem):
        verifier.verify(jwt.encode(claims, forged, algorithm="RS256", headers={"kid": "k1"}))
    # an HS256 token claiming to be from the issuer is not accepted either
    with pytest.raises(Problem):
        verifier.verify(
            jwt.encode(claims, "guessed-secret-0123456789-0123456789", algorithm="HS256", headers={"kid": "k1"})
        )


@pytest.mark.parametrize(
    "claims",
    [
        {"institution_id": 12345},
        {"institution_id": ["00000000-0000-0000-0000-000000000001"]},
        {"institution_id": {"id": 1}},
        {"sub": 42},
        {"sub": ""},
        {"esign_role": ["institution_officer"]},
        {"name": ["Ayşe"]},
    ],
)
def test_a_correctly_signed_token_with_a_claim_of_the_wrong_type_is_a_401(claims):
    now = datetime.now(timezone.utc)
    base = {
        "iss": "esign-local",
        "aud": "esign",
        "sub": "x",
        "exp": now + timedelta(minutes=5),
        "esign_role": "institution_officer",
        "institution_id": str(uuid.uuid4()),
    }
    token = jwt.encode({**base, **claims}, SECRET, algorithm="HS256")
    with pytest.raises(Problem) as exc:
        TokenVerifier(audience="esign", local_secret=SECRET).verify(token)
    assert exc.value.status == 401


def test_a_verified_token_is_remembered_by_its_hash_not_the_token(monkeypatch):
    verifier = TokenVerifier(audience="esign", local_secret=SECRET)
    token = mint_token(SECRET, subject="nes@x", role=Role.CA_OPERATOR)
    first = verifier.verify(token)
    # Verified once: the second request's answer comes from the cache, not from a new decode.
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: pytest.fail("decoded again"))
    assert verifier.verify(token) == first
    assert all(token.encode() not in key for key in verifier._cache._entries)


def test_a_remembered_token_is_not_served_past_its_expiry(monkeypatch):
    import esign.auth

    verifier = TokenVerifier(audience="esign", local_secret=SECRET, cache_lifetime=3600)
    token = mint_token(SECRET, subject="nes@x", role=Role.CA_OPERATOR, ttl=timedelta(minutes=5))
    verifier.verify(token)
    later = datetime.now(timezone.utc).timestamp() + 301
    monkeypatch.setattr(esign.auth.time, "time", lambda: later)
    # Past exp the cache lets go, and PyJWT (which reads the real clock) would still accept the
    # token: the refusal below can only come from a verification that saw the moved clock.
    calls = []
    monkeypatch.setattr(verifier, "_verify", lambda t: calls.append(t) or (_ for _ in ()).throw(unauthenticated("x")))
    with pytest.raises(Problem):
        verifier.verify(token)
    assert calls == [token]


def test_a_refused_token_is_not_remembered():
    verifier = TokenVerifier(audience="esign", local_secret=SECRET)
    for _ in range(2):
        with pytest.raises(Problem):
            verifier.verify(mint_token(SECRET, subject="x", role=Role.CA_OPERATOR, ttl=timedelta(seconds=-5)))
    assert not verifier._cache._entries

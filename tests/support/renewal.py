"""Helpers for the renewal tests: a clock tests can move, holders with produced certificates,
card keys (plain `cryptography` keys stand in for the card where the test is about the server's
checks; the SoftHSM2 tests use a real token), and the sign-in and e-approval steps over HTTP."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from esign.certificate_serial import serial_text
from esign.local_ca import LocalCA
from tests.support.applications import Flow, person

ORIGIN = "http://applications.test"


@dataclass
class Card:
    """A holder's key and certificate, as the agent would hand them over."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def b64(self) -> str:
        return base64.b64encode(self.der).decode()

    @property
    def mechanism(self) -> str:
        return "ECDSA_SHA256" if isinstance(self.key, ec.EllipticCurvePrivateKey) else "RSA_PKCS1_SHA256"

    def sign(self, data: bytes) -> str:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            raw = self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        else:
            raw = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()


def new_key(kind: str = "ec") -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)


@dataclass
class Holder:
    """A person whose first application was produced with ``serial``, and the card for it."""

    application_id: str
    institution_id: str
    tckn: str
    full_name: str
    serial: int
    not_after: datetime
    card: Card
    email: str = ""
    extra: dict = field(default_factory=dict)


async def produced_holders(
    flow: Flow, ca: LocalCA, count: int, *, days_left: int = 30, base: int = 900
) -> list[Holder]:
    """``count`` people of a new institution through the whole first application, each produced
    with a distinct serial, and a card certificate issued with that serial (valid ``days_left``
    more days)."""
    institution_id = await flow.institution()
    people = [person(base + i) for i in range(count)]
    invitations = await flow.invited(institution_id, people)
    now = datetime.now(timezone.utc)
    holders = []
    for p in people:
        inv = invitations[p["email"]]
        await flow.completed(inv)
        await flow.received(institution_id, inv.application_id)
        holders.append((inv.application_id, p))
    await flow.forwarded(institution_id, [a for a, _ in holders])
    result = []
    for i, (application_id, p) in enumerate(holders):
        serial = int(uuid.uuid4().hex[:12], 16) | 0x100000000000
        not_after = (now + timedelta(days=days_left)).replace(microsecond=0)
        r = await flow.client.post(
            f"/v1/applications/{application_id}/production",
            headers=flow.auth.operator(),
            json={
                "certificate_serial": serial_text(serial),
                "not_before": (not_after - timedelta(days=3 * 365)).isoformat(),
                "not_after": not_after.isoformat(),
                "card_type": "AKIS",
            },
        )
        assert r.status_code == 200, r.text
        full_name = f"{p['first_name']} {p['last_name']}"
        key = new_key("rsa" if i % 2 else "ec")
        cert = ca.issue_holder(
            key.public_key(),
            full_name=full_name,
            tckn=p["tckn"],
            serial=serial,
            not_before=not_after - timedelta(days=3 * 365),
            not_after=not_after,
        )
        result.append(
            Holder(application_id, institution_id, p["tckn"], full_name, serial, not_after, Card(key, cert), p["email"])
        )
    return result


async def challenge(client: httpx.AsyncClient, origin: str = ORIGIN) -> dict:
    r = await client.post("/v1/renewal/challenges", json={}, headers={"Origin": origin})
    assert r.status_code == 201, r.text
    return r.json()


async def sign_in(client: httpx.AsyncClient, card: Card, *, origin: str = ORIGIN) -> httpx.Response:
    c = await challenge(client, origin)
    return await client.post(
        "/v1/renewal/sessions",
        json={
            "challenge_id": c["challenge_id"],
            "certificate": card.b64,
            "signature": card.sign(base64.b64decode(c["to_sign"])),
            "mechanism": card.mechanism,
        },
    )


async def holder_session(client: httpx.AsyncClient, card: Card, *, origin: str = ORIGIN) -> dict[str, str]:
    r = await sign_in(client, card, origin=origin)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def prepare(client: httpx.AsyncClient, card: Card, headers: dict[str, str]) -> dict:
    r = await client.post(
        "/v1/renewal/approval/preparations",
        json={"certificate": card.b64, "mechanism": card.mechanism},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def e_approved(client: httpx.AsyncClient, card: Card, headers: dict[str, str]) -> dict:
    p = await prepare(client, card, headers)
    r = await client.post(
        "/v1/renewal/approval",
        json={"preparation_id": p["preparation_id"], "signature": card.sign(base64.b64decode(p["to_sign"]))},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return r.json()

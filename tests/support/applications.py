"""Helpers for the applications tests: tokens per role, staff lists, the invitation inbox, and the
workflow steps through the HTTP API."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass

import httpx
from nats.aio.client import Client as NATS
from nats.js.api import ConsumerConfig, DeliverPolicy

from esign import sealing
from services.applications.domain.tckn import check_digits
from tests.support.auth import JWT_SECRET, Auth

NOTIFICATIONS_PRIVATE, NOTIFICATIONS_PUBLIC = sealing.generate_keypair()
# The keys that encrypt the TC Kimlik No and birth date at rest (fixed, so a test can read rows back).
FIELD_KEYS = "test1:j1MPgYid3DMLYPJYpERGhN4Ln//7CUXQ+vtagL3GNMk="
FIELD_LOOKUP_KEY = "BBIbEF99SBZ6ODt4NZuQjdsNqf+U0NAhHMHEkJxwzP0="
# What every applications service under test is given (ApplicationsSettings' names): the keys the
# tests know, and cheaper Argon2 than production (same algorithm: the suite hashes many passwords).
APPLICATIONS_TEST_SETTINGS = {
    "jwt_secret": JWT_SECRET,
    "applicant_token_secret": "applicant-token-secret-for-tests-0123456789",
    "notifications_public_key": NOTIFICATIONS_PUBLIC,
    "field_keys": FIELD_KEYS,
    "field_lookup_key": FIELD_LOOKUP_KEY,
    "argon2_time_cost": 1,
    "argon2_memory_kib": 8192,
}


@dataclass
class Invitation:
    application_id: str
    email: str
    token: str
    password: str
    link: str


class InvitationInbox:
    """Reads invitation events off the applications stream and opens the sealed credentials
    with the notifications service's private key: exactly what the notifications service does."""

    def __init__(self, nc: NATS) -> None:
        self._js = nc.jetstream()
        self._sub = None

    async def start(self) -> None:
        self._sub = await self._js.subscribe(
            "applications.invitation.issued",
            stream="APPLICATIONS",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
            ordered_consumer=True,
        )

    async def collect(self, application_ids: set[str], timeout: float = 30) -> dict[str, Invitation]:
        found: dict[str, Invitation] = {}

        async def loop():
            while not application_ids <= found.keys():
                msg = await self._sub.next_msg(timeout=timeout)
                data = json.loads(msg.data)["data"]
                secret = sealing.unseal(NOTIFICATIONS_PRIVATE, data["sealed_credentials"])
                found[data["application_id"]] = Invitation(
                    data["application_id"], data["email"], secret["token"], secret["password"], secret["link"]
                )

        await asyncio.wait_for(loop(), timeout)
        return found

    async def stop(self) -> None:
        await self._sub.unsubscribe()


def make_tckn(n: int) -> str:
    """The n-th valid TC Kimlik No of a test series (the rule itself is tested against the
    published numbers in tests/services/applications/domain/test_tckn.py)."""
    first_nine = f"{(n % 8 + 1)}{(n * 7919) % 10**8:08d}"
    if len(set(first_nine)) == 1:  # would be a placeholder
        first_nine = first_nine[0] + str((int(first_nine[1]) + 1) % 10) + first_nine[2:]
    return first_nine + check_digits(first_nine)


def roster_csv(people: list[dict[str, str]], delimiter: str = ";") -> bytes:
    header = ["tckn", "first_name", "last_name", "birth_date", "title", "unit", "email", "mobile"]
    lines = [delimiter.join(header)] + [delimiter.join(p[h] for h in header) for p in people]
    return ("\n".join(lines) + "\n").encode()


def last_name(n: int) -> str:
    """A distinct Turkish-looking surname per n (names may not contain digits)."""
    letters = "abcçdefgğhıijklmnoöprsştuüvyz"
    suffix = ""
    while True:
        n, r = divmod(n, len(letters))
        suffix += letters[r]
        if n == 0:
            return "Yılmazoğlu" + suffix


def person(n: int, domain: str = "ornek.edu.tr") -> dict[str, str]:
    return {
        "tckn": make_tckn(n),
        "first_name": "Ayşe" if n % 2 else "İsmail",
        "last_name": last_name(n),
        "birth_date": "1985-04-12",
        "title": "Dr. Öğr. Üyesi",
        "unit": "Bilgi İşlem Daire Başkanlığı",
        "email": f"kisi{n}@{domain}",
        "mobile": f"0532{n % 10**7:07d}",
    }


COMPLETE_FORM = {
    "registry_number": "A-1024",
    "unit": "Bilgi İşlem",
    "title": "Öğr. Gör.",
    "card_reader_type": "acr39u",
    "validity_years": 3,
    "prior_certificate_reason": "none",
    "publish_consent": True,
    "delivery_address": {
        "line1": "Üniversite Cad. No: 1, Bilgi İşlem",
        "district": "Çankaya",
        "city": "Ankara",
        "postal_code": "06800",
    },
}


class Flow:
    """Steps of the first-application workflow through the HTTP API, for tests to compose."""

    def __init__(self, client: httpx.AsyncClient, auth: Auth, inbox: InvitationInbox | None = None) -> None:
        self.client, self.auth, self.inbox = client, auth, inbox

    async def institution(self) -> str:
        r = await self.client.post(
            "/v1/institutions", json={"name": f"Test Üniversitesi {uuid.uuid4().hex[:8]}"}, headers=self.auth.operator()
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def upload(self, institution_id: str, people: list[dict[str, str]]) -> httpx.Response:
        return await self.client.post(
            f"/v1/institutions/{institution_id}/roster",
            content=roster_csv(people),
            headers={**self.auth.officer(institution_id), "Content-Type": "text/csv"},
        )

    async def applications(self, institution_id: str) -> list[dict]:
        r = await self.client.get("/v1/applications", params={"limit": 500}, headers=self.auth.officer(institution_id))
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def invited(self, institution_id: str, people: list[dict[str, str]]) -> dict[str, Invitation]:
        """Uploads the people and returns their invitations, keyed by e-mail."""
        assert self.inbox is not None
        r = await self.upload(institution_id, people)
        assert r.status_code == 200, r.text
        ids = {a["id"] for a in await self.applications(institution_id)}
        found = await self.inbox.collect(ids)
        return {inv.email: inv for inv in found.values()}

    async def sign_in(self, inv: Invitation) -> dict[str, str]:
        r = await self.client.post("/v1/applicant/sessions", json={"token": inv.token, "password": inv.password})
        assert r.status_code == 200, r.text
        return self.auth.bearer(r.json()["access_token"])

    async def completed(self, inv: Invitation) -> dict[str, str]:
        headers = await self.sign_in(inv)
        r = await self.client.patch("/v1/applicant/application/form", json=COMPLETE_FORM, headers=headers)
        assert r.status_code == 200, r.text
        r = await self.client.put(
            "/v1/applicant/application/security-word", json={"security_word": "Kelebek42"}, headers=headers
        )
        assert r.status_code == 200, r.text
        r = await self.client.post("/v1/applicant/application/completion", headers=headers)
        assert r.status_code == 200, r.text
        return headers

    async def received(self, institution_id: str, application_id: str) -> None:
        r = await self.client.post(
            f"/v1/applications/{application_id}/signed-form",
            json={"channel": "paper", "received_on": "2026-01-05", "reference": "EVRAK-1"},
            headers=self.auth.officer(institution_id),
        )
        assert r.status_code == 200, r.text

    async def forwarded(self, institution_id: str, application_ids: list[str]) -> dict:
        r = await self.client.post(
            f"/v1/institutions/{institution_id}/batches",
            json={"application_ids": application_ids},
            headers=self.auth.officer(institution_id),
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def produced(self, application_id: str) -> dict:
        r = await self.client.post(
            f"/v1/applications/{application_id}/production",
            headers=self.auth.operator(),
            json={
                "certificate_serial": "5A:3F:00:11",
                "not_before": "2026-01-10T00:00:00+03:00",
                "not_after": "2029-01-10T00:00:00+03:00",
                "card_type": "AKIS",
            },
        )
        assert r.status_code == 200, r.text
        return r.json()

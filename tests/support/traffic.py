"""Traffic through the whole chain of a running platform, and the count at the end.

``Traffic`` does what people do, over HTTP: an operator registers an institution, its officer
uploads a staff list (→ invitations → e-mails), some of the staff read their invitation e-mail,
fill and complete the form, the officer records the signed forms and forwards them, the operator
records production (→ shipment → the simulated courier → e-mails and SMS). Requests go round-robin
to a service's living replicas and are retried through outages; a retried step that finds its
work already done (409) counts as done, as a client behind a load balancer would see it.

``ledger`` counts what the platform did; ``assert_exactly_once`` says whether it is exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import time
import uuid
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError

from esign import jetstream
from services.notifications.adapters.email import message_id
from services.notifications.config import NotificationsSettings
from tests.support.applications import COMPLETE_FORM, person, roster_csv
from tests.support.auth import Auth
from tests.support.faults import SERVICE_NAMES, FaultPlatform
from tests.support.notifications import text_part

INVITATION_SUBJECT = "E-imza (NES) başvuru davetiniz"
DELIVERED_SUBJECT = "E-imza kartınız teslim edildi"


async def until(what: str, probe, timeout: float = 180, every: float = 0.2):
    """Awaits ``probe()`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Traffic:
    platform: FaultPlatform
    invitees: int
    chains: int  # how many of the invitees go all the way to a delivered card
    first: int = 1  # person numbers first..first+invitees-1 (distinct per run: e-mail addresses)
    auth: Auth = field(default_factory=Auth)
    institution: str | None = None
    people: list[dict[str, str]] = field(default_factory=list)
    chain_ids: list[str] = field(default_factory=list)
    _rr: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.people = [person(n) for n in range(self.first, self.first + self.invitees)]

    async def call(self, service: str, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kw) -> httpx.Response:
        """One request, retried on connection errors and 5xx (another replica, a moment later);
        on a retry, 409 means a previous try did it."""
        deadline = time.monotonic() + 240
        retried = False
        async with httpx.AsyncClient(timeout=30) as client:
            while True:
                urls = self.platform.urls(service)
                answer: httpx.Response | None = None
                if urls:
                    try:
                        answer = await client.request(method, urls[next(self._rr) % len(urls)] + path, **kw)
                    except httpx.TransportError:
                        pass
                if answer is not None:
                    if answer.status_code in ok or (retried and answer.status_code == 409):
                        return answer
                    if answer.status_code < 500 and answer.status_code != 429:
                        raise AssertionError(f"{method} {path}: {answer.status_code} {answer.text}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{method} {path}: no answer through the outage")
                retried = True
                await asyncio.sleep(0.3)

    async def run(self) -> None:
        operator = self.auth.operator()
        r = await self.call(
            "applications",
            "POST",
            "/v1/institutions",
            json={"name": f"Arıza Üniversitesi {uuid.uuid4().hex[:8]}"},
            headers=operator,
            ok=(201,),
        )
        self.institution = r.json()["id"]
        officer = self.auth.officer(self.institution)
        await self.call(
            "applications",
            "POST",
            f"/v1/institutions/{self.institution}/roster",
            content=roster_csv(self.people),
            headers={**officer, "Content-Type": "text/csv"},
        )
        gate = asyncio.Semaphore(4)

        async def to_signed_form(p: dict[str, str]) -> str:
            async with gate:
                return await self._applicant_completes(p, officer)

        self.chain_ids = list(await asyncio.gather(*(to_signed_form(p) for p in self.people[: self.chains])))
        if self.chain_ids:
            await self.call(
                "applications",
                "POST",
                f"/v1/institutions/{self.institution}/batches",
                json={"application_ids": self.chain_ids},
                headers=officer,
                ok=(201,),
            )
        for application_id in self.chain_ids:
            await self.call(
                "applications",
                "POST",
                f"/v1/applications/{application_id}/production",
                headers=operator,
                json={
                    "certificate_serial": f"7F:{uuid.UUID(application_id).hex[:8].upper()}",
                    "not_before": "2026-01-10T00:00:00+03:00",
                    "not_after": "2029-01-10T00:00:00+03:00",
                },
            )

    async def _applicant_completes(self, p: dict[str, str], officer: dict[str, str]) -> str:
        """Reads the invitation e-mail as the applicant does, signs in, completes the form; the
        officer records the signed form. Returns the application id."""
        mail = await until(f"the invitation to {p['email']}", lambda: self.platform.smtp.to(p["email"]), timeout=240)
        text = text_part(mail[0])
        link = next(line for line in text.splitlines() if "#token=" in line).strip()
        password = next(line for line in text.splitlines() if line.startswith("Erişim parolası:")).split(":", 1)[1]
        r = await self.call(
            "applications",
            "POST",
            "/v1/applicant/sessions",
            json={"token": link.split("#token=")[1], "password": password.strip()},
        )
        applicant = self.auth.bearer(r.json()["access_token"])
        await self.call(
            "applications", "PATCH", "/v1/applicant/application/form", json=COMPLETE_FORM, headers=applicant
        )
        await self.call(
            "applications",
            "PUT",
            "/v1/applicant/application/security-word",
            json={"security_word": "Kelebek42"},
            headers=applicant,
        )
        await self.call("applications", "POST", "/v1/applicant/application/completion", headers=applicant)
        application_id = (
            await self.call("applications", "GET", "/v1/applicant/application", headers=applicant)
        ).json()["id"]
        await self.call(
            "applications",
            "POST",
            f"/v1/applications/{application_id}/signed-form",
            json={"channel": "paper", "received_on": "2026-01-05", "reference": "EVRAK-1"},
            headers=officer,
        )
        return application_id

    async def settled(self, timeout: float = 240) -> None:
        """Waits until the chain has run out: every card delivered, every message out, every event
        published and consumed."""
        ids = ",".join(f"'{i}'" for i in self.chain_ids) or "NULL"
        await until(
            "every card delivered",
            lambda: self._equals(
                len(self.chain_ids),
                self.platform.scalar(
                    "applications", f"SELECT count(*) FROM applications WHERE status = 'delivered' AND id IN ({ids})"
                ),
            ),
            timeout,
        )
        await until("the platform to fall quiet", lambda: quiet(self.platform), timeout)

    @staticmethod
    async def _equals(n: int, value) -> bool:
        return (await value) == n


async def quiet(platform: FaultPlatform) -> bool:
    for name in SERVICE_NAMES:
        if await platform.scalar(name, "SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            return False
    if await platform.scalar("notifications", "SELECT count(*) FROM deliveries WHERE status = 'queued'"):
        return False
    if await platform.scalar("tracking", "SELECT count(*) FROM shipments WHERE status <> 'delivered'"):
        return False
    nc = await jetstream.connect(platform.nats.url, name="ledger")
    try:
        return all(c.num_pending == 0 and c.num_ack_pending == 0 for c in await _consumers(nc.jetstream()))
    finally:
        await nc.close()


async def _consumers(js) -> list[ConsumerInfo]:
    found = []
    for name in SERVICE_NAMES:
        with contextlib.suppress(NotFoundError):  # a stream not created yet has no consumers
            found += await js.consumers_info(jetstream.stream_name(name))
    return found


def _matches(subject: str, pattern: str) -> bool:
    s, p = subject.split("."), pattern.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(s) == len(p)


@dataclass
class Ledger:
    outbox: dict[str, int]  # rows written per service
    unpublished: dict[str, int]
    on_stream: dict[str, int]  # messages per service's stream
    dead_letters: dict[str, int]
    consumed: dict[str, tuple[int, int]]  # consumer -> (events on its subjects, events it recorded as processed)
    deliveries: collections.Counter  # (channel, status) -> rows
    emails: collections.Counter  # Message-ID -> copies received
    email_ids: set[str]  # the Message-IDs the delivery log says it sent
    sms: collections.Counter  # delivery id (the provider reference) -> copies accepted
    sms_ids: set[str]
    retaken: set[str]  # Message-IDs and SMS references of deliveries attempted more than once
    invitations_issued: int
    shipments_per_application: collections.Counter

    def summary(self) -> str:
        events = sum(self.on_stream.values())
        return (
            f"events {events} (on streams {self.on_stream}, unpublished {sum(self.unpublished.values())}), "
            f"dead letters {sum(self.dead_letters.values())}, "
            f"e-mails {sum(self.emails.values())} ({len(self.emails)} distinct), "
            f"SMS {sum(self.sms.values())} ({len(self.sms)} distinct), "
            f"consumers {self.consumed}, "
            f"deliveries {dict(self.deliveries)}, invitations {self.invitations_issued}, "
            f"shipments {sum(self.shipments_per_application.values())}"
        )


async def ledger(platform: FaultPlatform) -> Ledger:
    outbox, unpublished, on_stream, dead = {}, {}, {}, {}
    for name in SERVICE_NAMES:
        outbox[name] = await platform.scalar(name, "SELECT count(*) FROM outbox")
        unpublished[name] = await platform.scalar(name, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        dead[name] = await platform.scalar(name, "SELECT count(*) FROM dead_letters")
    nc = await jetstream.connect(platform.nats.url, name="ledger")
    try:
        js = nc.jetstream()
        per_subject: dict[str, int] = {}
        for name in SERVICE_NAMES:
            info = await js.stream_info(jetstream.stream_name(name), subjects_filter=">")
            on_stream[name] = info.state.messages
            per_subject.update(info.state.subjects or {})
        consumed = {}
        for c in await _consumers(js):
            filters = c.config.filter_subjects or [c.config.filter_subject or ">"]
            events = sum(n for subject, n in per_subject.items() if any(_matches(subject, f) for f in filters))
            owner = next(n for n in SERVICE_NAMES if c.name.startswith(n))
            processed = await platform.scalar(
                owner, f"SELECT count(*) FROM processed_events WHERE consumer = '{c.name}'"
            )
            consumed[c.name] = (events, processed)
    finally:
        await nc.close()
    async with platform.engine("notifications").connect() as conn:
        rows = (await conn.execute(sa.text("SELECT id, channel, status, attempts FROM deliveries"))).all()
    async with platform.engine("tracking").connect() as conn:
        shipments = collections.Counter(
            str(r.application_id) for r in (await conn.execute(sa.text("SELECT application_id FROM shipments"))).all()
        )
    mail_from = NotificationsSettings.model_fields["mail_from"].default
    return Ledger(
        outbox=outbox,
        unpublished=unpublished,
        on_stream=on_stream,
        dead_letters=dead,
        consumed=consumed,
        deliveries=collections.Counter((r.channel, r.status) for r in rows),
        emails=collections.Counter(m["Message-ID"] for m in platform.smtp.messages),
        email_ids={message_id(r.id, mail_from) for r in rows if r.channel == "email"},
        sms=collections.Counter(req["reference"] for req in platform.sms_accepted),
        sms_ids={str(r.id) for r in rows if r.channel == "sms"},
        retaken={message_id(r.id, mail_from) if r.channel == "email" else str(r.id) for r in rows if r.attempts > 1},
        invitations_issued=await platform.scalar(
            "applications", "SELECT count(DISTINCT application_id) FROM invitations"
        ),
        shipments_per_application=shipments,
    )


def assert_exactly_once(count: Ledger, traffic: list[Traffic], *, killed_senders: int = 0) -> None:
    """Nothing lost, nothing doubled, nothing left behind.

    ``killed_senders``: notifications processes SIGKILLed while sending. Each may have had one
    message accepted by the server and not yet recorded (the window no sender can close, see
    docs/notifications.md): that message may arrive twice, the same Message-ID or reference,
    retaken after the lease. Nothing else may."""
    assert count.unpublished == dict.fromkeys(SERVICE_NAMES, 0), count.unpublished  # the outbox drained
    assert count.on_stream == count.outbox, (count.on_stream, count.outbox)  # each event on its stream once
    assert count.dead_letters == dict.fromkeys(SERVICE_NAMES, 0), count.dead_letters
    for consumer, (events, processed) in count.consumed.items():
        assert processed == events, f"{consumer}: {events} events, {processed} recorded as processed"
    assert {status for _, status in count.deliveries} == {"sent"}, count.deliveries
    assert set(count.emails) == count.email_ids, "an e-mail lost, or one the delivery log does not know"
    assert set(count.sms) == count.sms_ids, "an SMS lost, or one the delivery log does not know"
    doubled = {k: n for k, n in (count.emails + count.sms).items() if n > 1}
    assert len(doubled) <= killed_senders, f"sent more than once: {doubled}"
    assert all(n == 2 and k in count.retaken for k, n in doubled.items()), doubled
    invitees = sum(t.invitees for t in traffic)
    chains = [i for t in traffic for i in t.chain_ids]
    assert count.invitations_issued == invitees
    assert sorted(count.shipments_per_application) == sorted(chains)
    assert set(count.shipments_per_application.values()) <= {1}


def mails_with_subject(platform: FaultPlatform, subject: str) -> collections.Counter:
    """Recipient -> copies of the e-mails with this subject (prefix)."""
    return collections.Counter(
        m["To"].addresses[0].addr_spec for m in platform.smtp.messages if str(m["Subject"]).startswith(subject)
    )

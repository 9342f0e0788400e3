"""Real parts for the notifications tests: an SMTP server (aiosmtpd) that keeps what it receives,
an HTTP SMS provider stub (a real uvicorn server speaking the provider's JSON), event publishing
onto the real JetStream, and tokens per role."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from esign import sealing
from esign.embedded import free_port
from esign.events import Address

SEAL_PRIVATE, SEAL_PUBLIC = sealing.generate_keypair()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30, interval: float = 0.05) -> Any:
    """Waits for ``check()`` to return something truthy and returns it (no fixed sleeps: a slow
    machine makes the test slower, not wrong)."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval)


# ---------------------------------------------------------------- SMTP


class _Keep:
    def __init__(
        self,
        inbox: list[EmailMessage],
        by_recipient: dict[str, list[EmailMessage]],
        on_message: Callable[[EmailMessage], None] | None = None,
    ) -> None:
        self.inbox = inbox
        self.by_recipient = by_recipient
        self.on_message = on_message

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.invalid"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.inbox.append(message)
        for address in envelope.rcpt_tos:
            self.by_recipient.setdefault(address, []).append(message)
        if self.on_message:  # e.g. a fault injected between the server's acceptance and the sender's record
            self.on_message(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on a fixed port that can be stopped and started again (an outage). ``on_message``
    runs on each accepted message, before the server answers 250."""

    def __init__(self, on_message: Callable[[EmailMessage], None] | None = None) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        # Indexed as they arrive: looking one recipient up among thousands must not parse every To.
        self._by_recipient: dict[str, list[EmailMessage]] = {}
        self.on_message = on_message
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(
            _Keep(self.messages, self._by_recipient, self.on_message), hostname="127.0.0.1", port=self.port
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return list(self._by_recipient.get(address, []))


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")


# ---------------------------------------------------------------- SMS provider


@dataclass
class SmsProviderStub:
    """A real HTTP server answering like a Turkish SMS provider. Numbers ending in 00 are
    invalid (code 50); ``fail_next`` makes the next calls answer 503; ``code_next`` forces codes;
    ``on_accept`` runs on each accepted request before the answer goes out."""

    port: int = field(default_factory=free_port)
    received: list[dict] = field(default_factory=list)
    fail_next: int = 0
    code_next: list[str] = field(default_factory=list)
    on_accept: Callable[[dict], None] | None = None
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send/json"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/sms/send/json")
        async def send(request: Request) -> JSONResponse:
            body = await request.json()
            self.received.append({"body": body, "auth": request.headers.get("authorization")})
            if self.fail_next > 0:
                self.fail_next -= 1
                return JSONResponse({"error": "maintenance"}, status_code=503)
            if self.code_next:
                return JSONResponse({"code": self.code_next.pop(0), "description": "forced"})
            if any(m["no"].endswith("00") for m in body["messages"]):
                return JSONResponse({"code": "50", "description": "invalid number"})
            if self.on_accept:
                self.on_accept(body)
            return JSONResponse({"code": "00", "jobid": uuid.uuid4().hex[:12], "description": "queued"})

        return app

    async def start(self) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        self._task = asyncio.create_task(self._server.serve())
        await eventually(lambda: asyncio.sleep(0, self._server.started), timeout=10)

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task

    def to(self, e164: str) -> list[str]:
        number = e164.lstrip("+")
        return [m["msg"] for r in self.received for m in r["body"]["messages"] if m["no"] == number]


# ---------------------------------------------------------------- events


_counter = iter(range(10_000, 10**9))


@dataclass
class Person:
    """A test person with their own ids, e-mail and mobile, so tests never see each other's messages."""

    application_id: uuid.UUID = field(default_factory=uuid.uuid4)
    institution_id: uuid.UUID = field(default_factory=uuid.uuid4)
    holder_id: uuid.UUID = field(default_factory=uuid.uuid4)
    n: int = field(default_factory=lambda: next(_counter))
    first_name: str = "Gülşen Çağla"
    last_name: str = "Şahinoğlu"
    locale: str = "tr"

    @property
    def email(self) -> str:
        return f"kisi{self.n}@ornek.edu.tr"

    @property
    def mobile(self) -> str:
        return f"+9053{self.n % 10**7:07d}1"  # never ends in 00, the stub's invalid numbers

    def invitation(self, credentials: dict | None = None, **kw):
        from esign.events import InvitationIssued

        secrets = credentials or {
            "token": f"tok-{uuid.uuid4().hex}",
            "password": "Pw7KX9MQ3RTZ",
            "link": "http://localhost:8001/apply#token=TOKEN",
        }
        return InvitationIssued(
            application_id=self.application_id,
            institution_id=self.institution_id,
            institution_name="Örnek Üniversitesi",
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            mobile=self.mobile,
            locale=self.locale,
            expires_at=datetime(2026, 12, 22, 9, tzinfo=timezone.utc),
            sealed_credentials=sealing.seal(SEAL_PUBLIC, secrets),
            **kw,
        )

    def produced(self, serial: str, not_after: datetime, **kw):
        from esign.events import CertificateProduced

        return CertificateProduced(
            application_id=self.application_id,
            institution_id=self.institution_id,
            holder_id=self.holder_id,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            mobile=self.mobile,
            delivery_address=Address(
                line1="Atatürk Cad. No: 5", district="Çankaya", city="Ankara", postal_code="06100"
            ),
            card_reader_type="acr39u",
            certificate_serial=serial,
            card_type="AKİS",
            not_before=not_after - timedelta(days=3 * 365),
            not_after=not_after,
            **kw,
        )

    # Renewal (issue 11): ``self`` is the holder; ``application_id`` is the renewal's own application.

    def renewal_e_approved(self, old_serial: str, renewed_application_id: uuid.UUID, **kw):
        from esign.events import RenewalEApproved

        return RenewalEApproved(
            application_id=self.application_id,
            renewed_application_id=renewed_application_id,
            holder_id=self.holder_id,
            institution_id=self.institution_id,
            certificate_serial=old_serial,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            mobile=self.mobile,
            locale=self.locale,
            **kw,
        )

    def renewal_filed(self, secrets: dict, **kw):
        from esign.events import RenewalFiled

        return RenewalFiled(
            application_id=self.application_id,
            holder_id=self.holder_id,
            institution_id=self.institution_id,
            institution_name="Örnek Üniversitesi",
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            sealed_form_secret=sealing.seal(SEAL_PUBLIC, secrets),
            form_url_base="http://localhost:8001/renew/form",
            link_expires_at=datetime(2026, 12, 29, 9, tzinfo=timezone.utc),
            **kw,
        )

    def renewal_form_approved(self, institution_name: str = "Örnek Üniversitesi", **kw):
        from esign.events import RenewalFormApproved

        return RenewalFormApproved(
            application_id=self.application_id,
            holder_id=self.holder_id,
            institution_id=self.institution_id,
            institution_name=institution_name,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            approved_at=datetime(2026, 12, 2, 9, tzinfo=timezone.utc),
            **kw,
        )

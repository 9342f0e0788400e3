"""Helpers for the tracking tests: a controllable clock, produced-certificate events published on
the real APPLICATIONS stream, signed carrier webhooks, and waiting for outcomes."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nats.aio.client import Client as NATS

from esign import webhooks
from esign.embedded import free_port
from esign.events import Address, CertificateProduced
from services.tracking.adapters.carriers import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.support.auth import Auth
from tests.support.events import publish

WEBHOOK_SECRET = "carrier-webhook-secret-for-tests-0123456789"

T = TypeVar("T")


def produced(
    application_id: uuid.UUID | None = None,
    *,
    mobile: str = "+905321234567",
    city: str = "Ankara",
    first_name: str = "Ayşe",
    last_name: str = "Yılmaz",
) -> CertificateProduced:
    return CertificateProduced(
        application_id=application_id or uuid.uuid4(),
        institution_id=uuid.uuid4(),
        holder_id=uuid.uuid4(),
        first_name=first_name,
        last_name=last_name,
        email="ayse@ornek.edu.tr",
        mobile=mobile,
        delivery_address=Address(line1="Üniversite Cad. No: 1", district="Çankaya", city=city, postal_code="06800"),
        card_reader_type="acr39u",
        certificate_serial="5A:3F:00:11",
        card_type="AKIS",
        not_before=datetime(2026, 1, 10, tzinfo=timezone.utc),
        not_after=datetime(2029, 1, 10, tzinfo=timezone.utc),
    )


def report(
    tracking_number: str, status: str, occurred_at: datetime, *, event_id: str | None = None, **extra: Any
) -> bytes:
    return json.dumps(
        {
            "event_id": event_id or f"evt-{uuid.uuid4().hex}",
            "tracking_number": tracking_number,
            "status": status,
            "occurred_at": occurred_at.isoformat(),
            **extra,
        },
        ensure_ascii=False,
    ).encode()


def signed(body: bytes, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        **webhooks.signed_headers(
            secret.encode(), ts, body, timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER
        ),
        "Content-Type": "application/json",
    }


async def send_webhook(client: httpx.AsyncClient, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post("/v1/carrier/webhooks", content=body, headers=signed(body) if headers is None else headers)


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 20.0, what: str = "outcome") -> T:
    """Polls ``probe`` until it returns something truthy (waiting for an outcome, not timing it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Shipments:
    """Makes shipments the way production does (a certificate.produced event on NATS) and reads them back."""

    def __init__(self, client: httpx.AsyncClient, auth: Auth, nc: NATS) -> None:
        self.client, self.auth, self.js = client, auth, nc.jetstream()

    async def find(self, application_id: uuid.UUID) -> dict | None:
        r = await self.client.get(
            "/v1/shipments", params={"application_id": str(application_id)}, headers=self.auth.operator()
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return items[0] if items else None

    async def registered(self, application_id: uuid.UUID) -> dict:
        async def probe():
            found = await self.find(application_id)
            return found if found and found["tracking_number"] else None

        return await eventually(probe, what="the shipment to be registered")

    async def new(self, **kwargs) -> dict:
        event = produced(**kwargs)
        await publish(self.js, event, "applications")
        return await self.registered(event.application_id)

    async def detail(self, shipment_id: str) -> dict:
        r = await self.client.get(f"/v1/shipments/{shipment_id}", headers=self.auth.operator())
        assert r.status_code == 200, r.text
        return r.json()

    async def advance(self, tracking_number: str, **body) -> httpx.Response:
        return await self.client.post(
            f"/v1/ops/simulated-carrier/shipments/{tracking_number}/advance",
            json=body or None,
            headers=self.auth.operator(),
        )


class CarrierStub:
    """A real HTTP server playing a carrier's API (uvicorn on a free port, in the test's loop):
    ``POST /shipments`` is idempotent on the Idempotency-Key header, like a well-behaved carrier.
    ``fail_with`` makes the next calls answer that status instead."""

    API_KEY = "carrier-api-key-for-tests"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.numbers: dict[str, str] = {}
        self.fail_with: int | None = None
        app = FastAPI()

        @app.post("/shipments")
        async def create(request: Request) -> JSONResponse:
            body = await request.json()
            self.calls.append({"headers": dict(request.headers), "body": body})
            if request.headers.get("authorization") != f"Bearer {self.API_KEY}":
                return JSONResponse({"error": "unauthorised"}, status_code=401)
            if self.fail_with:
                return JSONResponse({"error": "simulated failure"}, status_code=self.fail_with)
            key = request.headers["idempotency-key"]
            number = self.numbers.setdefault(key, f"hc{len(self.numbers) + 1:08d}")
            return JSONResponse({"tracking_number": number}, status_code=201)

        self.app = app
        self._server = None
        self._task: asyncio.Task | None = None
        self.url = ""

    async def start(self) -> CarrierStub:
        port = free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self._task = asyncio.create_task(self._server.serve())
        await eventually(lambda: _started(self._server), timeout=10, what="the carrier stub")
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task


async def _started(server) -> bool:
    return bool(server.started)

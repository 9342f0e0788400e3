"""Helpers for the signing agent's tests: a page-side protocol client, the SoftHSM2 cards'
description, a fake clock, a session-leak probe."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pkcs11
from cryptography import x509
from esign_agent.config import Config
from esign_agent.server import Agent
from websockets.asyncio.client import ClientConnection, connect

ORIGIN = "https://esign.example.gov.tr"
TIMEOUT = 10  # seconds: a bound on waiting for the agent, not a performance assertion


@dataclass(frozen=True)
class Card:
    """One SoftHSM2 token as built by esign_agent.softhsm."""

    id: str
    label: str
    pin: str
    so_pin: str
    directory: Path
    holder_name: str
    tc_kimlik_no: str
    fingerprints: dict[str, str]  # key name -> certificate fingerprint

    def fp(self, name: str) -> str:
        return self.fingerprints[name]


@dataclass(frozen=True)
class SoftHSM:
    conf: str
    module: str
    ca: x509.Certificate
    cards: list[Card]

    @property
    def main(self) -> Card:
        return self.cards[0]

    @property
    def spare(self) -> Card:
        return self.cards[1]


def agent_config(**overrides: Any) -> Config:
    base = Config(
        port=0,
        allow_origins=(ORIGIN,),
        card_types=("softhsm",),
        poll_interval=0.05,
    )
    return replace(base, **overrides)


StartAgent = Callable[..., Awaitable[Agent]]

_MECHANISMS = {"rsa-2048": "RSA_PKCS1_SHA256", "ec-p256": "ECDSA_SHA256", "ec-p384": "ECDSA_SHA256"}


def sign_fields(card: Card, pin: str | None = None, key: str = "ec-p256", data: bytes = b"data") -> dict[str, Any]:
    """The fields of a ``sign`` request; ``pin`` defaults to the card's right PIN."""
    return {
        "token": card.id,
        "certificate": card.fp(key),
        "mechanism": _MECHANISMS[key],
        "data": base64.b64encode(data).decode(),
        "pin": card.pin if pin is None else pin,
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Client:
    """A page's side of the protocol: requests matched to answers by id, events queued."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if "event" in message:
                await self.events.put(message)
            elif message.get("id") in self._pending:
                self._pending.pop(message["id"]).set_result(message)
            else:  # answers to malformed requests have no usable id
                self._pending.pop(next(iter(self._pending))).set_result(message)

    async def send_raw(self, frame: str | bytes) -> dict[str, Any]:
        """Send any frame; wait for the one answer it gets."""
        key = f"raw-{next(self._ids)}"
        future = self._pending[key] = asyncio.get_running_loop().create_future()
        await self.ws.send(frame)
        return await asyncio.wait_for(future, TIMEOUT)

    async def request(self, type: str, **fields: Any) -> dict[str, Any]:
        request_id = str(next(self._ids))
        future = self._pending[request_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"id": request_id, "type": type, **fields}))
        answer = await asyncio.wait_for(future, TIMEOUT)
        assert answer["id"] == request_id
        return answer

    async def ok(self, type: str, **fields: Any) -> dict[str, Any]:
        answer = await self.request(type, **fields)
        assert answer["ok"] is True, answer
        return answer["result"]

    async def error(self, type: str, **fields: Any) -> dict[str, Any]:
        answer = await self.request(type, **fields)
        assert answer["ok"] is False, answer
        return answer["error"]

    async def event(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), TIMEOUT)


@asynccontextmanager
async def client(agent: Agent, origin: str | None = ORIGIN, **kwargs: Any) -> AsyncIterator[Client]:
    kwargs.setdefault("subprotocols", ["esign-agent.v1"])
    async with connect(f"ws://127.0.0.1:{agent.port}", origin=origin, **kwargs) as ws:
        c = Client(ws)
        try:
            yield c
        finally:
            c._reader.cancel()


def read_only_session_open(module: str, card: Card) -> Callable[[Any], bool]:
    """A worker job telling whether any read-only session is open on the token.

    PKCS#11 refuses a Security Officer login while the application has a read-only session
    open on the token (CKR_SESSION_READ_ONLY_EXISTS). Between operations the agent should hold
    none, so a refused SO login means a session leaked.
    """

    def job(_store: Any) -> bool:
        token = pkcs11.lib(module).get_token(token_label=card.label)
        try:
            session = token.open(rw=True, so_pin=card.so_pin)
        except pkcs11.SessionReadOnlyExists:
            return True
        session.close()
        return False

    return job


async def raw_handshake(port: int, host: str, origin: str) -> int:
    """Send an opening handshake with exactly these Host and Origin headers; the HTTP status.

    Client libraries derive Host from the URL, so a DNS-rebinding page is imitated by hand.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: esign-agent.v1\r\nOrigin: {origin}\r\n\r\n"
        ).encode()
    )
    status_line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    writer.close()
    return int(status_line.split()[1])


@dataclass
class ScriptedPrompt:
    """Plays the holder at the agent's PIN window (``pin_entry = "agent"``).

    Answers ``pin`` (None: cancels). ``hold_for`` names a card label whose window stays open
    until ``release`` is set; ``on_open`` runs when a window opens (e.g. to pull the card).
    """

    pin: str | None
    hold_for: str | None = None
    on_open: Callable[[], None] | None = None
    questions: list[Any] = field(default_factory=list)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def ask(self, question: Any) -> str | None:
        self.questions.append(question)
        self.opened.set()
        if self.on_open is not None:
            self.on_open()
        if question.token_label == self.hold_for:
            await self.release.wait()
        return self.pin


def log_in_once(module: str, cards: list[Card]) -> Callable[[Any], None]:
    """A worker job: log in with each card's right PIN, which clears the wrong-PIN count that
    SoftHSM2 keeps in the token's files (so one test's wrong PINs do not show in the next)."""

    def job(_store: Any) -> None:
        lib = pkcs11.lib(module)
        for card in cards:
            try:
                lib.get_token(token_label=card.label).open(user_pin=card.pin).close()
            except pkcs11.PKCS11Error:
                pass  # e.g. the test pulled this card out

    return job

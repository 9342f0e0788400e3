"""The WebSocket side: who may connect, one sign at a time per card, answers and events."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pkcs11
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from . import protocol
from .config import Config
from .limiter import PinAttemptLimiter
from .pin_prompt import DialogPinPrompt, PinPrompt, PinQuestion
from .pkcs11_worker import Pkcs11Worker
from .presets import card_types
from .protocol import AgentError, ErrorCode, GetCertificates, Hello, ListTokens, Mechanism, Sign
from .tokens import TokenInfo, TokenStore

log = logging.getLogger("esign_agent")
# websockets logs frame contents at DEBUG, and a sign frame carries the PIN. Its logger is held
# at INFO whatever --log-level says.
_ws_log = logging.getLogger("esign_agent.websocket")
_ws_log.setLevel(logging.INFO)

try:
    AGENT_VERSION = version("esign-agent")
except PackageNotFoundError:  # running from a source tree that was not installed
    AGENT_VERSION = "0.0.0"


class CardWatch:
    """Turns successive scans of the cards into ``token_inserted`` / ``token_removed`` events.

    A card must be missing from two scans in a row to count as removed: a driver can fail one
    read while another program holds the card (and SoftHSM2 while another process rewrites the
    token's files); a page should not see the card blink out and back.
    """

    def __init__(self, tokens: list[TokenInfo]) -> None:
        self.known = {t.id: t for t in tokens}
        self._missing_once: set[str] = set()

    def update(self, tokens: list[TokenInfo]) -> list[str]:
        current = {t.id: t for t in tokens}
        missing = self.known.keys() - current.keys()
        for token_id in missing - self._missing_once:
            current[token_id] = self.known[token_id]  # give it one more scan
        self._missing_once = missing - self._missing_once
        events = [
            protocol.event("token_removed", token=info.to_json())
            for token_id, info in self.known.items()
            if token_id not in current
        ] + [
            protocol.event("token_inserted", token=info.to_json())
            for token_id, info in current.items()
            if token_id not in self.known
        ]
        self.known = current
        return events


def _printable(value: str | None, limit: int = 120) -> str:
    """A header value that is safe to put in a log line (it comes from anyone who connects)."""
    if value is None:
        return "-"
    return ascii(value[:limit])[1:-1]


class Agent:
    """``async with Agent(config) as agent:`` serves on 127.0.0.1:``agent.port``."""

    def __init__(
        self,
        config: Config,
        *,
        loader: Callable[[str], Any] = pkcs11.lib,
        pin_prompt: PinPrompt | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.worker = Pkcs11Worker(TokenStore(card_types(config.card_types, config.modules), loader))
        self._limiter = PinAttemptLimiter(config.wrong_pin_delay, config.wrong_pin_max_delay, clock)
        if pin_prompt is None and config.pin_entry == "agent":
            pin_prompt = DialogPinPrompt(config.pin_prompt_timeout)
        self._pin_prompt = pin_prompt
        self._origins = frozenset(config.allow_origins)
        self._busy: set[str] = set()  # cards with a sign in progress
        self._clients: set[ServerConnection] = set()
        self._watch = CardWatch([])
        self._hello: dict[str, Any] = {}
        self._server: Server | None = None
        self._monitor_task: asyncio.Task[None] | None = None
        self.port = 0
        self._hosts: frozenset[str] = frozenset()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        statuses = await self.worker.load()
        self._hello = {
            "agent": "esign-agent",
            "agent_version": AGENT_VERSION,
            "protocol": protocol.PROTOCOL,
            "protocol_version": protocol.PROTOCOL_VERSION,
            "card_types": [{"id": s.card_type.id, "label": s.card_type.label, "available": s.loaded} for s in statuses],
            "mechanisms": [m.value for m in Mechanism],
            "pin_entry": self.config.pin_entry,
            "max_message_bytes": self.config.max_message_bytes,
        }
        self._watch = CardWatch(await self.worker.tokens())
        self._server = await serve(
            self._handle,
            "127.0.0.1",  # loopback only: the agent is for pages in this machine's browser
            self.config.port,
            subprotocols=[Subprotocol(protocol.PROTOCOL)],
            process_request=self._check_handshake,
            max_size=self.config.max_message_bytes,
            compression=None,  # nothing to gain on loopback; one less parser facing pages
            server_header=None,
            logger=_ws_log,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._hosts = frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})
        self._monitor_task = asyncio.create_task(self._monitor())
        log.info(
            "listening on ws://127.0.0.1:%d for %s",
            self.port,
            ", ".join(sorted(self._origins)) or "no origin",
        )
        if not self._origins:
            log.warning("no origin is allowed (--allow-origin): every page will be refused")

    async def stop(self) -> None:
        if self._monitor_task is not None:
            self._monitor_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._monitor_task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self.worker.close()

    async def __aenter__(self) -> Agent:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- connections -----------------------------------------------------------------------

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        hosts = request.headers.get_all("Host")
        origins = request.headers.get_all("Origin")
        origin = origins[0] if len(origins) == 1 else None
        if len(hosts) != 1 or hosts[0].lower() not in self._hosts:
            # A page on a rebound DNS name reaches 127.0.0.1 with its own name in Host.
            reason = f"Host {_printable(hosts[0] if hosts else None)}"
        elif origin not in self._origins:
            reason = "origin not in the allow-list"
        else:
            return None
        log.warning(
            "origin=%s op=connect result=%s (%s)",
            _printable(origin),
            ErrorCode.ORIGIN_NOT_ALLOWED,
            reason,
        )
        return connection.respond(HTTPStatus.FORBIDDEN, f"{ErrorCode.ORIGIN_NOT_ALLOWED}\n")

    async def _handle(self, ws: ServerConnection) -> None:
        origin = ws.request.headers["Origin"] if ws.request else "-"
        self._clients.add(ws)
        pending: set[asyncio.Task[None]] = set()
        try:
            # Requests on one connection run concurrently: a page may list cards while a sign
            # waits for the agent's PIN window. Answers are matched by id, not order.
            async for message in ws:
                task = asyncio.create_task(self._respond(ws, origin, message))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except ConnectionClosed as exc:
            if exc.sent is not None and exc.sent.code == 1009:  # we closed it: over max_size
                log.warning("origin=%s op=- result=%s (message too big)", origin, ErrorCode.BAD_REQUEST)
        finally:
            self._clients.discard(ws)

    async def _respond(self, ws: ServerConnection, origin: str, message: str | bytes) -> None:
        request_id: str | None = None
        op, fingerprint = "-", "-"
        try:
            request_id, request = protocol.parse_request(message)
            op = _OPERATIONS[type(request)]
            fingerprint = getattr(request, "certificate", "-")
            answer = protocol.ok(request_id, await self._dispatch(request, origin))
            code = "OK"
        except AgentError as err:
            answer = protocol.error(request_id or err.request_id, err)
            code = err.code
        except Exception:
            log.exception("op=%s: internal error", op)
            answer = protocol.error(request_id, AgentError(ErrorCode.INTERNAL))
            code = ErrorCode.INTERNAL
        try:
            await ws.send(answer)
        except ConnectionClosed:
            pass  # the page went away; the operation is done either way
        # The audit line: who asked, what, how it ended, with which certificate. Nothing else.
        # Written once the answer is on its way: the page need not wait for the log.
        log.info("origin=%s op=%s result=%s cert=%s", origin, op, code, fingerprint)

    async def _dispatch(self, request: protocol.Request, origin: str) -> dict[str, Any]:
        match request:
            case Hello():
                return self._hello
            case ListTokens():
                return {"tokens": [t.to_json() for t in await self.worker.tokens()]}
            case GetCertificates(token=token_id):
                # Reads are not exclusive: they only queue on the worker thread behind a sign.
                certs = await self.worker.certificates(token_id)
                return {"certificates": [c.to_json(m) for c, m in certs]}
            case Sign():
                return await self._sign(request, origin)
        raise AssertionError(request)

    @asynccontextmanager
    async def _exclusive(self, token_id: str) -> AsyncIterator[None]:
        """One sign at a time per card; a second one is refused, not queued, so a page cannot
        stack up PIN attempts or PIN windows behind the first."""
        if token_id in self._busy:
            raise AgentError(ErrorCode.BUSY)
        self._busy.add(token_id)
        try:
            yield
        finally:
            self._busy.discard(token_id)

    async def _sign(self, request: Sign, origin: str) -> dict[str, Any]:
        if self._pin_prompt is None and request.pin is None:
            raise AgentError(ErrorCode.BAD_REQUEST, '"pin" is required.')
        if self._pin_prompt is not None and request.pin is not None:
            raise AgentError(
                ErrorCode.BAD_REQUEST,
                'This agent asks for the PIN in its own window; do not send "pin".',
            )
        async with self._exclusive(request.token):
            wait = self._limiter.retry_after(request.token)
            if wait is not None:
                raise AgentError(ErrorCode.RATE_LIMITED, retry_after=math.ceil(wait))
            pin, seen = request.pin, False
            if pin is None:
                pin = await self._ask_pin(request, origin)
                seen = True
            try:
                signature = await self.worker.sign(request, pin, seen=seen)
            except AgentError as err:
                if err.code is ErrorCode.PIN_INCORRECT:
                    self._limiter.failed(request.token)
                raise
            self._limiter.succeeded(request.token)
        return {"signature": protocol.b64(signature), "mechanism": request.mechanism.value}

    async def _ask_pin(self, request: Sign, origin: str) -> str:
        assert self._pin_prompt is not None
        prepared = await self.worker.prepare(request)
        question = PinQuestion(
            origin=origin,
            token_label=prepared.token.label,
            holder_name=prepared.certificate.holder_name,
            final_try=prepared.token.pin.final_try,
        )
        pin = await self._pin_prompt.ask(question)
        if pin is None:
            raise AgentError(ErrorCode.CANCELLED)
        return pin

    # -- card events -----------------------------------------------------------------------

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.config.poll_interval)
            try:
                tokens = await self.worker.tokens()
            except Exception:
                log.exception("scanning for cards failed")
                continue
            for message in self._watch.update(tokens):
                broadcast(self._clients, message)


_OPERATIONS = {
    Hello: "hello",
    ListTokens: "list_tokens",
    GetCertificates: "get_certificates",
    Sign: "sign",
}

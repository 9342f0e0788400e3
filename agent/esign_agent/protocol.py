"""Wire format of protocol ``esign-agent.v1`` (documented in docs/agent-protocol.md).

A request is a JSON object ``{"id": "...", "type": "...", ...}``; its answer carries the same
``id`` and either ``"ok": true, "result": {...}`` or ``"ok": false, "error": {...}``. Events
carry ``"event"`` instead of ``"id"``. Parsing is strict: a page written against the document
should get BAD_REQUEST for anything the document does not allow, not a silent guess.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PROTOCOL = "esign-agent.v1"
PROTOCOL_VERSION = 1
MAX_ID_LENGTH = 64
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ErrorCode(StrEnum):
    """Stable error codes: pages switch on these, so never rename one."""

    ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"
    BAD_REQUEST = "BAD_REQUEST"
    BUSY = "BUSY"
    RATE_LIMITED = "RATE_LIMITED"
    TOKEN_NOT_PRESENT = "TOKEN_NOT_PRESENT"
    TOKEN_REMOVED = "TOKEN_REMOVED"
    CERT_NOT_FOUND = "CERT_NOT_FOUND"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    MECHANISM_NOT_SUPPORTED = "MECHANISM_NOT_SUPPORTED"
    PIN_INCORRECT = "PIN_INCORRECT"
    PIN_LOCKED = "PIN_LOCKED"
    PIN_LEN_RANGE = "PIN_LEN_RANGE"
    # Only in the agent-window PIN mode: the user closed the agent's PIN window.
    CANCELLED = "CANCELLED"
    DRIVER_ERROR = "DRIVER_ERROR"
    INTERNAL = "INTERNAL"


DEFAULT_MESSAGES = {
    ErrorCode.ORIGIN_NOT_ALLOWED: "This page is not allowed to use the signing agent.",
    ErrorCode.BAD_REQUEST: "The request is malformed.",
    ErrorCode.BUSY: "The card is busy with another operation.",
    ErrorCode.RATE_LIMITED: "Too many wrong PINs; wait before trying again.",
    ErrorCode.TOKEN_NOT_PRESENT: "The card is not present.",
    ErrorCode.TOKEN_REMOVED: "The card was removed during the operation.",
    ErrorCode.CERT_NOT_FOUND: "No certificate with this fingerprint is on the card.",
    ErrorCode.KEY_NOT_FOUND: "The card holds no private key for this certificate.",
    ErrorCode.MECHANISM_NOT_SUPPORTED: "The card or the key does not support this mechanism.",
    ErrorCode.PIN_INCORRECT: "The PIN is incorrect.",
    ErrorCode.PIN_LOCKED: "The PIN is locked; the card must be unblocked.",
    ErrorCode.PIN_LEN_RANGE: "The PIN has the wrong length.",
    ErrorCode.CANCELLED: "The user cancelled the PIN entry.",
    ErrorCode.DRIVER_ERROR: "The card driver reported an error.",
    ErrorCode.INTERNAL: "Internal error in the signing agent.",
}


class AgentError(Exception):
    """An error answer. ``details`` are extra JSON fields of the error object."""

    def __init__(self, code: ErrorCode, message: str | None = None, **details: Any) -> None:
        self.code = code
        self.message = message or DEFAULT_MESSAGES[code]
        super().__init__(f"{code}: {self.message}")
        self.details = details
        # Set when the error is raised while parsing, once the request's id is known.
        self.request_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, **self.details}


class Mechanism(StrEnum):
    RSA_PKCS1_SHA256 = "RSA_PKCS1_SHA256"
    RSA_PSS_SHA256 = "RSA_PSS_SHA256"
    ECDSA_SHA256 = "ECDSA_SHA256"


@dataclass(frozen=True)
class Hello:
    pass


@dataclass(frozen=True)
class ListTokens:
    pass


@dataclass(frozen=True)
class GetCertificates:
    token: str


@dataclass(frozen=True)
class Sign:
    token: str
    certificate: str
    mechanism: Mechanism
    data: bytes = field(repr=False)
    # repr=False: a request that ends up in a traceback or a debug print must not show the PIN.
    pin: str | None = field(default=None, repr=False)


Request = Hello | ListTokens | GetCertificates | Sign


def _bad(message: str) -> AgentError:
    return AgentError(ErrorCode.BAD_REQUEST, message)


def parse_request(raw: str | bytes) -> tuple[str, Request]:
    """Parse one frame. Raises AgentError, with ``request_id`` set once the id is known."""
    if isinstance(raw, bytes):
        raise _bad("Binary frames are not accepted; send JSON text.")
    try:
        obj = json.loads(raw)
    except ValueError:
        raise _bad("The message is not valid JSON.") from None
    if not isinstance(obj, dict):
        raise _bad("The message must be a JSON object.")
    request_id = obj.get("id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_ID_LENGTH:
        raise _bad(f'"id" must be a string of 1 to {MAX_ID_LENGTH} characters.')
    try:
        return request_id, _parse_body(obj)
    except AgentError as err:
        err.request_id = request_id
        raise


def _parse_body(obj: dict[str, Any]) -> Request:
    fields = _Fields(obj)
    kind = obj.get("type")
    if kind == "hello":
        request: Request = Hello()
    elif kind == "list_tokens":
        request = ListTokens()
    elif kind == "get_certificates":
        request = GetCertificates(token=fields.text("token"))
    elif kind == "sign":
        mechanism = fields.text("mechanism")
        if mechanism not in Mechanism.__members__:
            raise AgentError(
                ErrorCode.MECHANISM_NOT_SUPPORTED,
                f"Unknown mechanism; use one of {', '.join(Mechanism)}.",
            )
        request = Sign(
            token=fields.text("token"),
            certificate=fields.fingerprint("certificate"),
            mechanism=Mechanism(mechanism),
            data=fields.base64("data"),
            pin=fields.optional_text("pin"),
        )
    else:
        raise _bad('Unknown "type".')
    fields.reject_unknown()
    return request


class _Fields:
    """Reads typed fields from a request object and remembers which ones were read."""

    _ENVELOPE = frozenset({"id", "type"})

    def __init__(self, obj: dict[str, Any]) -> None:
        self._obj = obj
        self._seen: set[str] = set(self._ENVELOPE)

    def optional_text(self, name: str) -> str | None:
        self._seen.add(name)
        value = self._obj.get(name)
        if value is not None and not isinstance(value, str):
            raise _bad(f'"{name}" must be a string.')
        return value

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if not value:
            raise _bad(f'"{name}" is required.')
        return value

    def fingerprint(self, name: str) -> str:
        value = self.text(name).lower()
        if not _SHA256_HEX.fullmatch(value):
            raise _bad(f'"{name}" must be a SHA-256 fingerprint: 64 hexadecimal digits.')
        return value

    def base64(self, name: str) -> bytes:
        value = self.text(name)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(f'"{name}" must be standard base64.') from None

    def reject_unknown(self) -> None:
        unknown = sorted(set(self._obj) - self._seen)
        if unknown:
            raise _bad(f"Unknown field(s): {', '.join(unknown)}.")


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def ok(request_id: str, result: dict[str, Any]) -> str:
    return _dump({"id": request_id, "ok": True, "result": result})


def error(request_id: str | None, err: AgentError) -> str:
    return _dump({"id": request_id, "ok": False, "error": err.to_json()})


def event(name: str, **fields: Any) -> str:
    return _dump({"event": name, **fields})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")

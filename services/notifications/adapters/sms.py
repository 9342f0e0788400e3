"""SMS providers. ``sink`` writes each SMS into a folder a person can read (local runs); ``http``
speaks a JSON API shaped like the Turkish providers' (Netgsm, İleti Merkezi, Verimor):

    POST <sms_http_url>   (HTTP Basic auth)
    {"msgheader": "KAMUSM", "encoding": "TR", "messages": [{"msg": "...", "no": "905321234567"}],
     "reference": "<delivery id>"}
    -> 200 {"code": "00", "jobid": "1234567890", "description": "queued"}

and their result codes, mapped to what retrying can change:

    00            accepted                               -> sent, job id kept as provider reference
    20            message text rejected (length, chars)  -> permanent
    30, 40        bad credentials / header not approved  -> transient (our configuration: fix, resend)
    50, 51        number invalid or on the provider's block list -> permanent
    70            malformed request                      -> permanent
    80, 85        rate or duplicate limit                -> transient
    HTTP 5xx, timeouts, connection errors                -> transient
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import httpx

from services.notifications.domain.delivery import (
    PermanentSendError,
    Sent,
    TransientSendError,
)
from services.notifications.domain.segments import count_segments


@dataclass(frozen=True, kw_only=True)
class SmsMessage:
    delivery_id: uuid.UUID
    to: str  # E.164, e.g. +905321234567
    text: str
    originator: str


class SmsProvider(Protocol):
    async def send(self, message: SmsMessage) -> Sent: ...


class SinkSmsProvider:
    """One text file per SMS (named by the delivery, so a retry overwrites rather than doubles)
    and a line per SMS in ``sms.jsonl``."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory

    async def send(self, message: SmsMessage) -> Sent:
        return await asyncio.to_thread(self._write, message)

    def _write(self, message: SmsMessage) -> Sent:
        self._dir.mkdir(parents=True, exist_ok=True)
        seg = count_segments(message.text)
        now = datetime.now(timezone.utc)
        existing = sorted(self._dir.glob(f"*-{message.delivery_id}.txt"))
        path = existing[0] if existing else self._dir / f"{now:%Y%m%d-%H%M%S}-{message.delivery_id}.txt"
        path.write_text(
            f"To: {message.to}\nFrom: {message.originator}\nDate: {now.isoformat()}\n"
            f"Encoding: {seg.encoding.value}, {seg.units} units, {seg.segments} segment(s)\n\n"
            f"{message.text}\n",
            encoding="utf-8",
        )
        if not existing:
            with open(self._dir / "sms.jsonl", "a", encoding="utf-8") as log:
                log.write(
                    json.dumps(
                        {
                            "delivery_id": str(message.delivery_id),
                            "to": message.to,
                            "from": message.originator,
                            "text": message.text,
                            "segments": seg.segments,
                            "encoding": seg.encoding.value,
                            "at": now.isoformat(),
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        return Sent(f"sink:{path.name}")


_PERMANENT = {"20": "message text rejected", "50": "invalid number", "51": "number blocked", "70": "malformed request"}
_TRANSIENT = {
    "30": "provider credentials refused; check sms_http_username/password",
    "40": "originator (header) not approved",
    "80": "rate limit",
    "85": "duplicate limit",
}


class HttpSmsProvider:
    def __init__(self, url: str, *, username: str | None, password: str | None, timeout: float) -> None:
        self._url = url
        self._auth = (username, password or "") if username else None
        self._timeout = timeout

    async def send(self, message: SmsMessage) -> Sent:
        body = {
            "msgheader": message.originator,
            "encoding": "TR",
            "reference": str(message.delivery_id),
            "messages": [{"msg": message.text, "no": message.to.lstrip("+")}],
        }
        try:
            # A client per message: SMS volume is low, and nothing is left open when the service stops.
            async with httpx.AsyncClient(timeout=self._timeout, auth=self._auth) as client:
                response = await client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            raise TransientSendError(
                f"SMS provider unreachable ({type(exc).__name__})", code="http_unreachable"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientSendError(
                f"SMS provider answered {response.status_code}", code=f"http_{response.status_code}"
            )
        if response.status_code in (401, 403):
            raise TransientSendError(_TRANSIENT["30"], code=f"http_{response.status_code}")
        try:
            answer = response.json()
            code = str(answer.get("code", ""))
        except (ValueError, AttributeError):
            raise TransientSendError(
                f"unreadable provider answer (HTTP {response.status_code})", code="bad_answer"
            ) from None
        if code == "00" and answer.get("jobid"):
            return Sent(f"job:{answer['jobid']}")
        if code in _PERMANENT:
            raise PermanentSendError(_PERMANENT[code], code=f"sms_{code}")
        if code in _TRANSIENT:
            raise TransientSendError(_TRANSIENT[code], code=f"sms_{code}")
        if response.status_code >= 400:
            raise PermanentSendError(
                f"SMS provider refused the request (HTTP {response.status_code})", code=f"http_{response.status_code}"
            )
        raise TransientSendError(f"unknown provider code {code[:10]!r}", code="sms_unknown")

"""Carrier adapters: a generic HTTP carrier and the simulated one used locally and in tests.

Both register a parcel and later report statuses through the same signed webhook
(``POST /v1/carrier/webhooks``); the simulated carrier signs its reports with the shared secret and
hands them to the same handler the webhook endpoint uses, so a local run exercises the real path.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

import httpx

from esign import webhooks
from services.tracking.domain.carrier import CarrierError, Parcel
from services.tracking.domain.shipment import Status

TIMESTAMP_HEADER = "X-Carrier-Timestamp"
SIGNATURE_HEADER = "X-Carrier-Signature"


class HttpCarrier:
    """``POST {base_url}/shipments`` with the parcel as JSON, ``Authorization: Bearer <api key>`` and
    ``Idempotency-Key: <shipment id>``; the answer carries ``tracking_number``."""

    name = "http"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    async def register(self, parcel: Parcel) -> str:
        body = {
            "reference": str(parcel.shipment_id),
            "recipient": {"name": parcel.recipient_name, "mobile": parcel.mobile},
            "address": parcel.delivery_address,
            "contents": parcel.contents,
            "id_check_required": parcel.id_check_required,
        }
        try:
            response = await self._client.post(
                "/shipments", json=body, headers={"Idempotency-Key": str(parcel.shipment_id)}
            )
        except httpx.HTTPError as exc:
            raise CarrierError(f"carrier unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise CarrierError(f"carrier answered {response.status_code}")
        if response.status_code >= 400:
            # Our request is wrong (e.g. an address it cannot serve): retrying will not help by itself.
            raise CarrierError(f"carrier refused the parcel: {response.status_code}", retryable=False)
        try:
            tracking_number = str(response.json()["tracking_number"]).strip()
        except (ValueError, KeyError, TypeError) as exc:
            raise CarrierError("carrier answer has no tracking_number") from exc
        if not tracking_number:
            raise CarrierError("carrier answer has an empty tracking_number")
        return tracking_number

    async def aclose(self) -> None:
        await self._client.aclose()


# The simulated carrier's own words for each step, in Turkish like a domestic courier's API: the
# service must normalise them exactly as it would a real carrier's.
SIMULATED_WORDS = {
    Status.HANDED_TO_COURIER: "KARGOYA_VERILDI",
    Status.IN_TRANSIT: "TRANSFER_MERKEZINDE",
    Status.OUT_FOR_DELIVERY: "DAGITIMDA",
    Status.DELIVERED: "TESLIM_EDILDI",
    Status.DELIVERY_FAILED: "TESLIM_EDILEMEDI",
    Status.RETURNED: "IADE_EDILDI",
}
# Where the simulated courier takes a parcel next (a failed attempt is followed by another one).
SIMULATED_NEXT = {
    Status.CREATED: Status.HANDED_TO_COURIER,
    Status.HANDED_TO_COURIER: Status.IN_TRANSIT,
    Status.IN_TRANSIT: Status.OUT_FOR_DELIVERY,
    Status.OUT_FOR_DELIVERY: Status.DELIVERED,
    Status.DELIVERY_FAILED: Status.OUT_FOR_DELIVERY,
}


class SimulatedCarrier:
    name = "simulated"

    def __init__(self, webhook_secret: bytes) -> None:
        self._secret = webhook_secret

    async def register(self, parcel: Parcel) -> str:
        # Deterministic per shipment: registering again (after a crash) gives the same number.
        return "SIM" + f"{parcel.shipment_id.int % 10**10:010d}"

    def report(
        self,
        tracking_number: str,
        status: Status,
        *,
        occurred_at: datetime,
        reason: str | None = None,
        now: float | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed status report, byte for byte what the webhook endpoint receives."""
        event: dict[str, Any] = {
            "event_id": f"sim-{uuid.uuid4().hex}",
            "tracking_number": tracking_number,
            "status": SIMULATED_WORDS[status],
            "occurred_at": occurred_at.isoformat(),
        }
        if reason:
            event["reason"] = reason
        body = json.dumps(event, ensure_ascii=False).encode()
        timestamp = int(now if now is not None else time.time())
        return body, webhooks.signed_headers(
            self._secret, timestamp, body, timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER
        )

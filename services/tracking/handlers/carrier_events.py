"""Carrier status reports: authenticate the webhook, keep the raw event, move the shipment.

One transaction per report: the replay receipt, the raw event, the shipment's new status, its
timeline entry and the outbox events commit together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import structlog
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from esign import safe_json, webhooks
from esign.instant import representable_in_utc
from services.tracking.adapters.event_mapping import contract_event
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.domain.carrier_status import normalise
from services.tracking.domain.shipment import CarrierUpdate, Outcome, Shipment, Status, normalise_tracking_number
from services.tracking.handlers.errors import WebhookPayloadInvalid, WebhookReplayed

log = structlog.get_logger("tracking.carrier_events")


@dataclass(frozen=True)
class WebhookPolicy:
    carrier: str  # the configured carrier, whose reports this endpoint receives
    secret: bytes
    tolerance_seconds: int
    public_query_url: str


class CarrierReport(BaseModel):
    """The generic carrier's status report (one per webhook call). Extra fields are allowed and
    kept in the raw event."""

    model_config = ConfigDict(extra="allow")
    event_id: str = Field(
        min_length=1, max_length=200, description="The carrier's id of this report; a resend repeats it."
    )
    tracking_number: str = Field(min_length=1, max_length=64)
    status: str = Field(min_length=1, max_length=100, description="The carrier's own status word.")
    occurred_at: Annotated[AwareDatetime, AfterValidator(representable_in_utc)] = Field(
        description="When it happened, by the carrier's clock (orders the reports)."
    )
    reason: str | None = Field(None, max_length=500)
    location: str | None = Field(None, max_length=200)


DUPLICATE = "duplicate"
UNKNOWN_STATUS = "unknown_status"
UNKNOWN_SHIPMENT = "unknown_shipment"


async def accept_webhook(
    uow: TrackingUnitOfWork,
    policy: WebhookPolicy,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
) -> str:
    """Verifies and records one report; returns what became of it. Raises ``webhooks.WebhookRefused``,
    ``WebhookReplayed`` or ``WebhookPayloadInvalid``."""
    verified = webhooks.verify(
        policy.secret, timestamp, signature, body, now=now.timestamp(), tolerance_seconds=policy.tolerance_seconds
    )
    if not await uow.webhook_receipts.remember(verified.digest, now):
        raise WebhookReplayed(
            "This signed call was already received; a new report needs a new timestamp and signature."
        )
    try:
        # The same checks the request guard makes of every other JSON body, now that the signature
        # says who sent it.
        raw = safe_json.loads(body)
    except safe_json.UnsafeJson as exc:
        fields = sorted({e.field for e in exc.errors})
        raise WebhookPayloadInvalid(f"The report is not readable: {', '.join(fields)}.", exc.errors) from None
    try:
        report = CarrierReport.model_validate(raw)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors(include_input=False)})
        raise WebhookPayloadInvalid(f"The report is not readable: {', '.join(fields)}.") from None
    return await record_report(uow, policy, raw, report, now)


async def record_report(
    uow: TrackingUnitOfWork, policy: WebhookPolicy, raw: dict[str, Any], report: CarrierReport, now: datetime
) -> str:
    tracking_number = normalise_tracking_number(report.tracking_number)
    status = normalise(report.status)
    shipment = await uow.shipments.by_tracking_number(policy.carrier, tracking_number, for_update=True)
    event_row = uuid.uuid4()
    first_time = await uow.carrier_events.add(
        {
            "id": event_row,
            "carrier": policy.carrier,
            "carrier_event_id": report.event_id,
            "tracking_number": tracking_number,
            "shipment_id": shipment.id if shipment else None,
            "raw": raw,
            "carrier_status": report.status,
            "status": status.value if status else None,
            "occurred_at": report.occurred_at,
            "outcome": "received",
            "received_at": now,
        }
    )
    if not first_time:
        return DUPLICATE  # the carrier resent a report we have (e.g. it missed our answer)
    if status is None:
        outcome = UNKNOWN_STATUS
        log.warning("carrier_status_unknown", carrier=policy.carrier, carrier_status=report.status[:100])
    elif shipment is None:
        # Possibly a report that beat our registration's commit: kept, applied when the number is known.
        outcome = UNKNOWN_SHIPMENT
    else:
        outcome = (
            await apply_update(
                uow,
                shipment,
                CarrierUpdate(status, report.occurred_at, report.reason, report.location),
                policy.public_query_url,
            )
        ).value
    await uow.carrier_events.set_outcome(event_row, shipment.id if shipment else None, outcome)
    log.info(
        "carrier_report",
        carrier=policy.carrier,
        shipment_id=str(shipment.id) if shipment else None,
        status=status.value if status else None,
        outcome=outcome,
    )
    return outcome


async def apply_update(
    uow: TrackingUnitOfWork, shipment: Shipment, update: CarrierUpdate, public_query_url: str
) -> Outcome:
    """Moves a row-locked shipment and emits what the move means to other services."""
    outcome = shipment.apply(update)
    if outcome is Outcome.APPLIED:
        await uow.shipments.save(shipment)
        for change in shipment.pull_events():
            if (event := contract_event(shipment, change, public_query_url)) is not None:
                uow.emit(event)
    return outcome


async def adopt_waiting_reports(uow: TrackingUnitOfWork, shipment: Shipment, public_query_url: str) -> int:
    """Applies reports that arrived before the shipment had its tracking number (oldest first)."""
    waiting = await uow.carrier_events.waiting_for(shipment.carrier, shipment.tracking_number or "")
    for row in waiting:
        update = CarrierUpdate(Status(row.status), row.occurred_at, row.raw.get("reason"), row.raw.get("location"))
        outcome = await apply_update(uow, shipment, update, public_query_url)
        await uow.carrier_events.set_outcome(row.id, shipment.id, outcome.value)
    return len(waiting)


async def adopt_orphaned_reports(uow: TrackingUnitOfWork, carrier: str, public_query_url: str) -> int:
    adopted = 0
    for shipment_id in await uow.carrier_events.orphaned_shipment_ids(carrier):
        shipment = await uow.shipments.get(shipment_id, for_update=True)
        if shipment is not None:
            adopted += await adopt_waiting_reports(uow, shipment, public_query_url)
    return adopted

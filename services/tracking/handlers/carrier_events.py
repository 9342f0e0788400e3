"""Carrier status reports: authenticate the webhook, keep the raw event, move the shipment.

One transaction per report: the replay receipt, the raw event, the shipment's new status, its
timeline entry and the outbox events commit together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from esign import safe_json, webhooks
from esign.clock import Clock
from esign.instant import representable_in_utc
from services.tracking.adapters.repositories.carrier_events import CarrierEventRecord
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.domain.carrier_status import normalise
from services.tracking.domain.shipment import CarrierUpdate, Outcome, Shipment, normalise_tracking_number
from services.tracking.handlers.errors import WebhookPayloadInvalid, WebhookReplayed

log = structlog.get_logger("tracking.carrier_events")


@dataclass(frozen=True, kw_only=True)
class WebhookPolicy:
    carrier: str  # the configured carrier, whose reports this endpoint receives
    secret: bytes
    tolerance_seconds: int


@dataclass(frozen=True, kw_only=True)
class ReceiveCarrierReport:
    """One webhook call as it arrived: the raw body and the signature headers."""

    body: bytes
    timestamp: str | None
    signature: str | None


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
    command: ReceiveCarrierReport, uow: TrackingUnitOfWork, *, policy: WebhookPolicy, clock: Clock
) -> str:
    """Verifies and records one report; returns what became of it. Raises ``webhooks.WebhookRefused``,
    ``WebhookReplayed`` or ``WebhookPayloadInvalid``."""
    now = clock.now()
    verified = webhooks.verify(
        policy.secret,
        command.timestamp,
        command.signature,
        command.body,
        now=now.timestamp(),
        tolerance_seconds=policy.tolerance_seconds,
    )
    if not await uow.webhook_receipts.remember(verified.digest, now):
        raise WebhookReplayed(
            "This signed call was already received; a new report needs a new timestamp and signature."
        )
    try:
        # The same checks the request guard makes of every other JSON body, now that the signature
        # says who sent it.
        raw = safe_json.loads(command.body)
    except safe_json.UnsafeJson as exc:
        fields = sorted({e.field for e in exc.errors})
        raise WebhookPayloadInvalid(f"The report is not readable: {', '.join(fields)}.", exc.errors) from None
    try:
        report = CarrierReport.model_validate(raw)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors(include_input=False)})
        raise WebhookPayloadInvalid(f"The report is not readable: {', '.join(fields)}.") from None
    return await record_report(report, uow, raw=raw, policy=policy, clock=clock)


async def record_report(
    report: CarrierReport, uow: TrackingUnitOfWork, *, raw: dict[str, Any], policy: WebhookPolicy, clock: Clock
) -> str:
    """Keeps the verified ``report`` (``raw`` as sent) and applies it to its shipment if it can."""
    tracking_number = normalise_tracking_number(report.tracking_number)
    status = normalise(report.status)
    shipment = await uow.shipments.by_tracking_number(policy.carrier, tracking_number, for_update=True)
    event_row = uuid.uuid4()
    first_time = await uow.carrier_events.add(
        CarrierEventRecord(
            id=event_row,
            carrier=policy.carrier,
            carrier_event_id=report.event_id,
            tracking_number=tracking_number,
            shipment_id=shipment.id if shipment else None,
            raw=raw,
            carrier_status=report.status,
            status=status,
            occurred_at=report.occurred_at,
            outcome="received",
            received_at=clock.now(),
        )
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
        update = CarrierUpdate(status, report.occurred_at, reason=report.reason, location=report.location)
        outcome = (await apply_update(uow, shipment, update)).value
    await uow.carrier_events.set_outcome(event_row, shipment.id if shipment else None, outcome)
    log.info(
        "carrier_report",
        carrier=policy.carrier,
        shipment_id=str(shipment.id) if shipment else None,
        status=status.value if status else None,
        outcome=outcome,
    )
    return outcome


async def apply_update(uow: TrackingUnitOfWork, shipment: Shipment, update: CarrierUpdate) -> Outcome:
    """Moves a row-locked shipment. What the move means to other services leaves with the unit of
    work's commit (the repository registered the shipment; ``adapters/event_mapping.py``)."""
    outcome = shipment.apply(update)
    if outcome is Outcome.APPLIED:
        await uow.shipments.save(shipment)
    return outcome


async def adopt_waiting_reports(uow: TrackingUnitOfWork, shipment: Shipment) -> int:
    """Applies reports that arrived before the shipment had its tracking number (oldest first)."""
    waiting = await uow.carrier_events.waiting_for(shipment.carrier, shipment.tracking_number or "")
    for event in waiting:
        assert event.status is not None  # waiting_for only returns reports with a known status
        update = CarrierUpdate(
            event.status, event.occurred_at, reason=event.raw.get("reason"), location=event.raw.get("location")
        )
        outcome = await apply_update(uow, shipment, update)
        await uow.carrier_events.set_outcome(event.id, shipment.id, outcome.value)
    return len(waiting)


async def adopt_orphaned_reports(uow: TrackingUnitOfWork, carrier: str) -> int:
    adopted = 0
    for shipment_id in await uow.carrier_events.orphaned_shipment_ids(carrier):
        shipment = await uow.shipments.get(shipment_id, for_update=True)
        if shipment is not None:
            adopted += await adopt_waiting_reports(uow, shipment)
    return adopted

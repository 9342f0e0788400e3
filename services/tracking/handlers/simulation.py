"""The simulated courier moves parcels on: on a timer, or when an operator (or the CLI) asks.

Its reports are signed with the webhook secret and go through ``accept_webhook`` exactly like a
real carrier's HTTP call (verification, replay receipt, raw event, normalisation, state machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from esign.auth import Principal
from esign.clock import Clock
from esign.problems import NotFound
from services.tracking.adapters.carriers import SIGNATURE_HEADER, SIMULATED_NEXT, TIMESTAMP_HEADER, SimulatedCarrier
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.domain.shipment import Shipment, Status, normalise_tracking_number
from services.tracking.handlers.carrier_events import ReceiveCarrierReport, WebhookPolicy, accept_webhook
from services.tracking.handlers.errors import NothingToAdvance, NotSimulated

log = structlog.get_logger("tracking.simulation")


@dataclass(frozen=True, kw_only=True)
class AdvanceSimulated:
    """Report the parcel's next status, or ``status`` (e.g. delivery_failed with a ``reason``)."""

    tracking_number: str
    status: Status | None = None
    reason: str | None = None


async def _report(
    uow: TrackingUnitOfWork,
    shipment: Shipment,
    *,
    status: Status,
    reason: str | None,
    policy: WebhookPolicy,
    courier: SimulatedCarrier,
    clock: Clock,
) -> str:
    assert shipment.tracking_number is not None
    now = clock.now()
    body, headers = courier.report(
        shipment.tracking_number, status, occurred_at=now, reason=reason, now=now.timestamp()
    )
    call = ReceiveCarrierReport(body=body, timestamp=headers[TIMESTAMP_HEADER], signature=headers[SIGNATURE_HEADER])
    return await accept_webhook(call, uow, policy=policy, clock=clock)


async def advance(
    command: AdvanceSimulated,
    uow: TrackingUnitOfWork,
    *,
    principal: Principal,
    clock: Clock,
    policy: WebhookPolicy,
    courier: SimulatedCarrier | None,
) -> tuple[Shipment, str]:
    """One step (the next one, or ``command.status``) asked for by an operator; returns the
    shipment as it is now and the outcome."""
    if courier is None:
        raise NotSimulated("Only the simulated carrier can be moved by hand; a real carrier reports by webhook.")
    number = normalise_tracking_number(command.tracking_number)
    shipment = await uow.shipments.by_tracking_number(policy.carrier, number, for_update=True)
    if shipment is None:
        raise NotFound("shipment", detail="No shipment has that tracking number.")
    target = command.status or SIMULATED_NEXT.get(shipment.status)
    if target is None or target is Status.CREATED:
        raise NothingToAdvance(f"The shipment is {shipment.status.value}; the courier has nothing more to report.")
    outcome = await _report(
        uow, shipment, status=target, reason=command.reason, policy=policy, courier=courier, clock=clock
    )
    log.info("simulated_step", shipment_id=str(shipment.id), status=target.value, outcome=outcome, by=principal.subject)
    moved = await uow.shipments.get(shipment.id)
    assert moved is not None  # locked above: it cannot have gone
    return moved, outcome


async def tick(
    uow: TrackingUnitOfWork,
    *,
    policy: WebhookPolicy,
    courier: SimulatedCarrier,
    step: timedelta,
    clock: Clock,
    limit: int = 50,
) -> int:
    """Moves every simulated parcel that has not changed for ``step`` one step on."""
    due = await uow.shipments.lock_simulated_due(policy.carrier, clock.now() - step, limit)
    for shipment in due:
        target = SIMULATED_NEXT.get(shipment.status)
        if target is not None:
            await _report(uow, shipment, status=target, reason=None, policy=policy, courier=courier, clock=clock)
    return len(due)

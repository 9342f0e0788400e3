"""The simulated courier moves parcels on: on a timer, or when an operator (or the CLI) asks.

Its reports are signed with the webhook secret and go through ``accept_webhook`` exactly like a
real carrier's HTTP call (verification, replay receipt, raw event, normalisation, state machine).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from esign.problems import NotFound
from services.tracking.adapters.carriers import SIGNATURE_HEADER, SIMULATED_NEXT, TIMESTAMP_HEADER, SimulatedCarrier
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.domain.shipment import Shipment, Status, normalise_tracking_number
from services.tracking.handlers.carrier_events import WebhookPolicy, accept_webhook
from services.tracking.handlers.errors import NothingToAdvance, NotSimulated


async def _report(
    uow: TrackingUnitOfWork,
    policy: WebhookPolicy,
    courier: SimulatedCarrier,
    shipment: Shipment,
    status: Status,
    reason: str | None,
    now: datetime,
) -> str:
    assert shipment.tracking_number is not None
    body, headers = courier.report(shipment.tracking_number, status, now, reason, now=now.timestamp())
    return await accept_webhook(uow, policy, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], now)


async def advance(
    uow: TrackingUnitOfWork,
    policy: WebhookPolicy,
    courier: SimulatedCarrier | None,
    tracking_number: str,
    now: datetime,
    status: Status | None = None,
    reason: str | None = None,
) -> tuple[Shipment, str]:
    """One step (the next one, or ``status``); returns the shipment as it is now and the outcome."""
    if courier is None:
        raise NotSimulated("Only the simulated carrier can be moved by hand; a real carrier reports by webhook.")
    shipment = await uow.shipments.by_tracking_number(
        policy.carrier, normalise_tracking_number(tracking_number), for_update=True
    )
    if shipment is None:
        raise NotFound("shipment", detail="No shipment has that tracking number.")
    target = status or SIMULATED_NEXT.get(shipment.status)
    if target is None or target is Status.CREATED:
        raise NothingToAdvance(f"The shipment is {shipment.status.value}; the courier has nothing more to report.")
    outcome = await _report(uow, policy, courier, shipment, target, reason, now)
    return await uow.shipments.get(shipment.id), outcome  # type: ignore[return-value]


async def tick(
    uow: TrackingUnitOfWork,
    policy: WebhookPolicy,
    courier: SimulatedCarrier,
    step: timedelta,
    now: datetime,
    limit: int = 50,
) -> int:
    """Moves every simulated parcel that has not changed for ``step`` one step on."""
    due = await uow.shipments.lock_simulated_due(policy.carrier, now - step, limit)
    for shipment in due:
        target = SIMULATED_NEXT.get(shipment.status)
        if target is not None:
            await _report(uow, policy, courier, shipment, target, None, now)
    return len(due)

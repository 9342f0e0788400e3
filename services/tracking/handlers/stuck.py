"""Stuck shipments: handed to the courier, neither delivered nor returned within the promised
working days. Each is flagged once: the flag is set on the locked row in the same transaction
as the event, so neither a second pass nor a second replica can flag it again."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import structlog

from esign.clock import BUSINESS_TIMEZONE, Clock, business_date
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.domain.working_days import latest_overdue_hand_over

log = structlog.get_logger("tracking.stuck")


def overdue_cutoff(now: datetime, working_days: int) -> datetime:
    """Shipments handed over before this instant are overdue at ``now`` (local calendar days)."""
    last_overdue_day = latest_overdue_hand_over(business_date(now), working_days)
    return datetime.combine(last_overdue_day + timedelta(days=1), time(0), BUSINESS_TIMEZONE)


async def flag_stuck(uow: TrackingUnitOfWork, *, clock: Clock, working_days: int, limit: int = 100) -> int:
    """Flags a batch of overdue shipments; their ``tracking.shipment.stuck`` events leave with the
    commit (the repository registered them)."""
    now = clock.now()
    shipments = await uow.shipments.lock_overdue(overdue_cutoff(now, working_days), limit)
    for shipment in shipments:
        shipment.flag_stuck(now, working_days=working_days)
        await uow.shipments.save(shipment)
        log.warning("shipment_stuck", shipment_id=str(shipment.id), status=shipment.status.value)
    return len(shipments)

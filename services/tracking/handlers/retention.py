"""Recipient data kept only while the parcel needs it (docs/personal-data.md): the name, mobile
and address of a delivered shipment are removed ``keep`` after delivery. The status, city and
timeline stay (the shipment's history), so the operator still sees what happened."""

from __future__ import annotations

from datetime import timedelta

from esign.clock import Clock
from esign.retention import bounded_pass
from services.tracking.adapters.uow import TrackingUnitOfWork

JOB = "tracking.recipient-erasure"


async def erase_delivered_recipients(
    uow: TrackingUnitOfWork, *, clock: Clock, keep: timedelta, batch_size: int = 500
) -> int:
    """One pass by the replica whose turn it is (esign.retention.bounded_pass)."""
    delivered_before = clock.now() - keep
    return await bounded_pass(
        uow,
        JOB,
        lambda limit: uow.shipments.erase_delivered_recipients(delivered_before, limit),
        batch_size=batch_size,
    )

"""Recipient data kept only while the parcel needs it (docs/personal-data.md): the name, mobile
and address of a delivered shipment are removed ``keep`` after delivery. The status, city and
timeline stay (the shipment's history), so the operator still sees what happened."""

from __future__ import annotations

from datetime import timedelta

from esign.clock import Clock
from esign.retention import counted, take_turn
from services.tracking.adapters.uow import TrackingUnitOfWork

JOB = "tracking.recipient-erasure"


async def erase_delivered_recipients(
    uow: TrackingUnitOfWork, *, clock: Clock, keep: timedelta, batch_size: int = 500
) -> int:
    """One pass by the replica whose turn it is; returns the count when a batch came back full
    (the worker goes again at once), else 0."""
    if not await take_turn(uow.session, JOB):
        return 0
    erased = await uow.shipments.erase_delivered_recipients(clock.now() - keep, batch_size)
    await uow.commit()
    counted(JOB, erased)
    return erased if erased >= batch_size else 0

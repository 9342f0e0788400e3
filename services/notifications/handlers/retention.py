"""The delivery log keeps whom a message went to only as long as support needs it
(docs/personal-data.md): after ``keep`` a finished delivery's recipient is masked
(``a***@ornek.edu.tr``, ``+90 5** *** ** 67``) and its template data removed. The row stays:
that a message of this template went out on this channel, when, and how it ended."""

from __future__ import annotations

from datetime import timedelta

from esign.clock import Clock
from esign.masking import mask_recipient
from esign.retention import counted, take_turn
from services.notifications.adapters.uow import NotificationsUnitOfWork

JOB = "notifications.delivery-log-masking"


async def mask_old_deliveries(
    uow: NotificationsUnitOfWork, *, clock: Clock, keep: timedelta, batch_size: int = 500
) -> int:
    """One pass by the replica whose turn it is; returns the count when a batch came back full
    (the worker goes again at once), else 0."""
    if not await take_turn(uow.session, JOB):
        return 0
    masked = await uow.deliveries.mask_old_contacts(clock.now() - keep, batch_size, mask_recipient)
    await uow.commit()
    counted(JOB, masked)
    return masked if masked >= batch_size else 0

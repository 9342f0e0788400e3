"""The delivery log keeps whom a message went to only as long as support needs it
(docs/personal-data.md): after ``keep`` a finished delivery's recipient is masked
(``a***@ornek.edu.tr``, ``+90 5** *** ** 67``) and its template data removed. The row stays:
that a message of this template went out on this channel, when, and how it ended."""

from __future__ import annotations

from datetime import timedelta

from esign.clock import Clock
from esign.masking import mask_recipient
from esign.retention import bounded_pass
from services.notifications.adapters.uow import NotificationsUnitOfWork

JOB = "notifications.delivery-log-masking"


async def mask_old_deliveries(
    uow: NotificationsUnitOfWork, *, clock: Clock, keep: timedelta, batch_size: int = 500
) -> int:
    """One pass by the replica whose turn it is (esign.retention.bounded_pass)."""
    created_before = clock.now() - keep
    return await bounded_pass(
        uow,
        JOB,
        lambda limit: uow.deliveries.mask_old_contacts(created_before, limit, mask_recipient),
        batch_size=batch_size,
    )

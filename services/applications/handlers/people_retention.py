"""People erased at the end of their purpose (domain/people_retention.py), by a periodic worker
every replica runs: one replica per pass (esign.retention.take_turn), bounded batches."""

from __future__ import annotations

from esign.clock import Clock
from esign.retention import bounded_pass
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.people_retention import PeopleRetention

JOB = "applications.people-erasure"


async def erase_people_past_their_purpose(
    uow: ApplicationsUnitOfWork, *, clock: Clock, rules: PeopleRetention, batch_size: int = 200
) -> int:
    """One pass by the replica whose turn it is; returns the count when the batch came back full."""
    now = clock.now()

    async def erase(limit: int) -> int:
        return await uow.people_erasure.erase_ended(now=now, rules=rules, limit=limit)

    return await bounded_pass(uow, JOB, erase, batch_size=batch_size)

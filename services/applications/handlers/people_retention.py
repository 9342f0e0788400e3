"""People erased at the end of their purpose (domain/people_retention.py), by a periodic worker
every replica runs: one replica per pass (esign.retention.take_turn), bounded batches. Each
erasure writes ``applications.person.erased`` (ids only) to the outbox in the same transaction,
so the notifications service removes its copy of the person's contacts."""

from __future__ import annotations

import uuid

from esign.clock import Clock
from esign.events import PersonErased
from esign.retention import bounded_pass
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.people_retention import PeopleRetention

JOB = "applications.people-erasure"
# A person is erased once: the event id follows from the person, so a retried pass cannot make two.
_ERASED_NAMESPACE = uuid.UUID("5b0f7c1e-2d4a-4e8b-9a61-3c7d2e8f4a10")


async def erase_people_past_their_purpose(
    uow: ApplicationsUnitOfWork, *, clock: Clock, rules: PeopleRetention, batch_size: int = 200
) -> int:
    """One pass by the replica whose turn it is; returns the count when the batch came back full."""
    now = clock.now()

    async def erase(limit: int) -> int:
        erased = await uow.people_erasure.erase_ended(now=now, rules=rules, limit=limit)
        for person_id, application_ids in erased.items():
            uow.emit(
                PersonErased(person_id=person_id, application_ids=tuple(application_ids), erased_at=now),
                event_id=uuid.uuid5(_ERASED_NAMESPACE, str(person_id)),
            )
        return len(erased)

    return await bounded_pass(uow, JOB, erase, batch_size=batch_size)

"""After a key rotation (a new key first in FIELD_KEYS), people's TC Kimlik No and birth date are
re-encrypted with it in the background, so the old key can be removed once nothing needs it
(docs/personal-data.md). One replica per pass (esign.retention.take_turn), bounded batches."""

from __future__ import annotations

from esign.retention import counted, take_turn
from services.applications.adapters.uow import ApplicationsUnitOfWork

JOB = "applications.personal-data-reencryption"


async def reencrypt_personal_data(uow: ApplicationsUnitOfWork, *, batch_size: int = 200) -> int:
    """One pass; returns the count when a batch came back full (the worker goes again), else 0."""
    if not await take_turn(uow.session, JOB):
        return 0
    done = await uow.people.reencrypt_stale(batch_size)
    await uow.commit()
    counted(JOB, done)
    return done if done >= batch_size else 0

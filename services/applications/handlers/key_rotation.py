"""After a key rotation (a new key first in FIELD_KEYS), people's TC Kimlik No and birth date are
re-encrypted with it in the background, so the old key can be removed once nothing needs it
(docs/personal-data.md). One replica per pass (esign.retention.take_turn), bounded batches."""

from __future__ import annotations

from esign.retention import bounded_pass
from services.applications.adapters.uow import ApplicationsUnitOfWork

JOB = "applications.personal-data-reencryption"


async def reencrypt_personal_data(uow: ApplicationsUnitOfWork, *, batch_size: int = 200) -> int:
    """One pass by the replica whose turn it is (esign.retention.bounded_pass)."""
    return await bounded_pass(uow, JOB, uow.people.reencrypt_stale, batch_size=batch_size)

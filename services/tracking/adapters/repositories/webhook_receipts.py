"""Accepted signed webhook calls, remembered for as long as a replay could still be on time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import Repository
from services.tracking.adapters import orm


class WebhookReceiptRepository(Repository):
    async def remember(self, digest: str, now: datetime) -> bool:
        """False when this exact signed call was accepted before: a replay."""
        t = orm.webhook_receipts
        stmt = pg_insert(t).values(digest=digest, received_at=now).on_conflict_do_nothing().returning(t.c.digest)
        return (await self.session.execute(stmt)).first() is not None

    async def purge(self, received_before: datetime) -> int:
        t = orm.webhook_receipts
        result = await self.session.execute(sa.delete(t).where(t.c.received_at < received_before))
        return result.rowcount or 0  # type: ignore[attr-defined]

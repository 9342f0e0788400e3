"""The officers' digests: one per institution and period, whatever the replicas."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import Repository
from services.notifications.adapters import orm


class DigestRepository(Repository):
    async def sent_in(self, period: str) -> set[uuid.UUID]:
        """Institutions whose digest for ``period`` is already recorded."""
        g = orm.officer_digests
        return set((await self.session.execute(sa.select(g.c.institution_id).where(g.c.period == period))).scalars())

    async def claim(self, institution_id: uuid.UUID, *, period: str, holders: int, at: datetime) -> bool:
        """True for the one caller that records this (institution, period); a concurrent replica
        waits on the key, then finds it taken."""
        g = orm.officer_digests
        result = await self.session.execute(
            pg_insert(g)
            .values(institution_id=institution_id, period=period, holders=holders, sent_at=at)
            .on_conflict_do_nothing()
            .returning(g.c.period)
        )
        return result.first() is not None

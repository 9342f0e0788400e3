"""Institutions and their NES officers, for the digests and the officers' messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import Repository
from services.notifications.adapters import orm


@dataclass(frozen=True, kw_only=True)
class Officer:
    id: uuid.UUID
    institution_id: uuid.UUID
    full_name: str
    email: str
    mobile: str | None


class DirectoryRepository(Repository):
    async def institution(self, institution_id: uuid.UUID, name: str) -> None:
        i = orm.institutions
        await self.session.execute(
            pg_insert(i)
            .values(id=institution_id, name=name)
            .on_conflict_do_update(index_elements=[i.c.id], set_={"name": name})
        )

    async def officer(self, officer: Officer) -> None:
        o = orm.officers
        values = {
            "institution_id": officer.institution_id,
            "full_name": officer.full_name,
            "email": officer.email,
            "mobile": officer.mobile,
        }
        await self.session.execute(
            pg_insert(o).values(id=officer.id, **values).on_conflict_do_update(index_elements=[o.c.id], set_=values)
        )

    async def officers_of(self, institution_id: uuid.UUID) -> list[Officer]:
        o = orm.officers
        rows = await self.session.execute(
            sa.select(o).where(o.c.institution_id == institution_id).order_by(o.c.full_name)
        )
        return [
            Officer(
                id=row.id,
                institution_id=row.institution_id,
                full_name=row.full_name,
                email=row.email,
                mobile=row.mobile,
            )
            for row in rows
        ]

    async def institutions_with_officers(self, institution_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        o = orm.officers
        rows = await self.session.execute(
            sa.select(o.c.institution_id).where(o.c.institution_id.in_(institution_ids)).distinct()
        )
        return set(rows.scalars())

    async def institution_name(self, institution_id: uuid.UUID) -> str | None:
        i = orm.institutions
        return (await self.session.execute(sa.select(i.c.name).where(i.c.id == institution_id))).scalar()

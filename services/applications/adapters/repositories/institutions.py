"""Institutions and their NES officers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from esign.repository import Repository
from services.applications.adapters import orm


@dataclass(frozen=True, slots=True)
class InstitutionRecord:
    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OfficerRecord:
    id: uuid.UUID
    institution_id: uuid.UUID
    subject: str  # the officer's login: the `sub` of their tokens
    full_name: str
    email: str
    mobile: str | None


def _institution(row: sa.Row) -> InstitutionRecord:
    return InstitutionRecord(id=row.id, name=row.name, created_at=row.created_at)


def _officer(row: sa.Row) -> OfficerRecord:
    return OfficerRecord(
        id=row.id,
        institution_id=row.institution_id,
        subject=row.subject,
        full_name=row.full_name,
        email=row.email,
        mobile=row.mobile,
    )


class InstitutionRepository(Repository):
    async def add(self, institution_id: uuid.UUID, name: str) -> None:
        await self.session.execute(sa.insert(orm.institutions).values(id=institution_id, name=name))

    async def name_taken(self, name: str) -> bool:
        t = orm.institutions
        return (
            await self._one_or_none(sa.select(t.c.id).where(sa.func.lower(t.c.name) == name.lower()), bool) is not None
        )

    async def get(self, institution_id: uuid.UUID) -> InstitutionRecord | None:
        t = orm.institutions
        return await self._one_or_none(sa.select(t).where(t.c.id == institution_id), _institution)

    async def name_of(self, institution_id: uuid.UUID) -> str:
        """The name of an institution a loaded row refers to (the foreign key guarantees one)."""
        found = await self.get(institution_id)
        if found is None:
            raise LookupError(f"no institution {institution_id}")
        return found.name

    async def list(self, only: uuid.UUID | None = None) -> Sequence[InstitutionRecord]:
        t = orm.institutions
        query = sa.select(t).order_by(t.c.name)
        if only is not None:
            query = query.where(t.c.id == only)
        return [_institution(row) for row in await self.session.execute(query)]

    async def add_officer(self, officer: OfficerRecord) -> None:
        await self.session.execute(
            sa.insert(orm.officers).values(
                id=officer.id,
                institution_id=officer.institution_id,
                subject=officer.subject,
                full_name=officer.full_name,
                email=officer.email,
                mobile=officer.mobile,
            )
        )

    async def officer_subject_taken(self, subject: str) -> bool:
        t = orm.officers
        return await self._one_or_none(sa.select(t.c.id).where(t.c.subject == subject), bool) is not None

    async def officers(self, institution_id: uuid.UUID) -> Sequence[OfficerRecord]:
        t = orm.officers
        query = sa.select(t).where(t.c.institution_id == institution_id).order_by(t.c.full_name)
        return [_officer(row) for row in await self.session.execute(query)]

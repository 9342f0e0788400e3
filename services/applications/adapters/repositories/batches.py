"""Batches: the applications an officer forwarded (or renewals filed) together, with manifests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from esign.db import Executor
from esign.repository import Repository
from services.applications.adapters import orm
from services.applications.adapters.personal_data import PeopleCodec
from services.applications.adapters.repositories.documents import receipt_from_document
from services.applications.adapters.repositories.people_columns import PersonRecord, open_person, person_columns
from services.applications.domain.application import SignedFormReceipt, Status


@dataclass(frozen=True, slots=True)
class BatchRecord:
    id: uuid.UUID
    institution_id: uuid.UUID
    created_by: str  # the officer's login
    note: str | None
    created_at: datetime
    size: int  # how many applications it holds


@dataclass(frozen=True, slots=True)
class BatchMember:
    """One line of a batch's manifest."""

    application_id: uuid.UUID
    status: Status
    signed_form: SignedFormReceipt | None
    person: PersonRecord


def _batch(row: sa.Row[Any]) -> BatchRecord:
    return BatchRecord(
        id=row.id,
        institution_id=row.institution_id,
        created_by=row.created_by,
        note=row.note,
        created_at=row.created_at,
        size=row.size,
    )


class BatchRepository(Repository):
    def __init__(self, session: Executor, codec: PeopleCodec) -> None:
        super().__init__(session)
        self._codec = codec  # members carry their TC Kimlik No (shown masked)

    async def add(self, batch_id: uuid.UUID, *, institution_id: uuid.UUID, created_by: str, note: str | None) -> None:
        await self.session.execute(
            sa.insert(orm.batches).values(id=batch_id, institution_id=institution_id, created_by=created_by, note=note)
        )

    def _with_size(self) -> sa.Select[Any]:
        b, a = orm.batches, orm.applications
        return (
            sa.select(b, sa.func.count(a.c.id).label("size"))
            .outerjoin(a, a.c.batch_id == b.c.id)
            .group_by(b.c.id)
            .order_by(b.c.created_at.desc())
        )

    async def get(self, batch_id: uuid.UUID) -> BatchRecord | None:
        return await self._one_or_none(self._with_size().where(orm.batches.c.id == batch_id), _batch)

    async def list(self, institution_id: uuid.UUID | None) -> Sequence[BatchRecord]:
        query = self._with_size()
        if institution_id is not None:
            query = query.where(orm.batches.c.institution_id == institution_id)
        return [_batch(row) for row in await self.session.execute(query)]

    async def members(self, batch_id: uuid.UUID) -> Sequence[BatchMember]:
        a, p = orm.applications, orm.people
        query = (
            sa.select(a.c.id, a.c.status, a.c.signed_form, *person_columns())
            .join(p, p.c.id == a.c.person_id)
            .where(a.c.batch_id == batch_id, p.c.erased_at.is_(None))
            .order_by(p.c.last_name, p.c.first_name)
        )
        return [
            BatchMember(
                application_id=row.id,
                status=Status(row.status),
                signed_form=receipt_from_document(row.signed_form),
                person=open_person(self._codec, row),
            )
            for row in await self.session.execute(query)
        ]

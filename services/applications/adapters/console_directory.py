"""The institutions the staff console's sign-in shows and names, read through the unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.applications.adapters.uow import ApplicationsUnitOfWork


class InstitutionDirectory:
    def __init__(self, uow: Callable[[], ApplicationsUnitOfWork]) -> None:
        self._uow = uow

    async def all(self) -> list[tuple[uuid.UUID, str]]:
        async with self._uow() as uow:
            return [(row.id, row.name) for row in await uow.institutions.list()]

    async def name_of(self, institution_id: uuid.UUID) -> str | None:
        async with self._uow() as uow:
            row = await uow.institutions.get(institution_id)
        return row.name if row else None

"""Who each application is for, as the events told us: the messages that name only the
application (a shipment's progress, the signed form) find the person here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import Repository
from services.notifications.adapters import orm


@dataclass(frozen=True, kw_only=True)
class Contact:
    """What an event says about the person; ``None`` keeps what is already known (mobile, locale)."""

    application_id: uuid.UUID
    institution_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    mobile: str | None
    locale: str | None


@dataclass(frozen=True, kw_only=True)
class Recipient:
    application_id: uuid.UUID
    institution_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    mobile: str | None
    locale: str


def _recipient(row: sa.Row[Any]) -> Recipient:
    return Recipient(
        application_id=row.application_id,
        institution_id=row.institution_id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        mobile=row.mobile,
        locale=row.locale,
    )


class RecipientRepository(Repository):
    async def remember(self, contact: Contact, *, default_locale: str) -> None:
        """Keeps the latest contact data; the locale only changes when an event states one
        (``default_locale`` for a person seen first without one)."""
        r = orm.recipients
        values: dict[str, Any] = {
            "institution_id": contact.institution_id,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "updated_at": sa.func.now(),
        }
        if contact.mobile:
            values["mobile"] = contact.mobile
        update = dict(values)
        if contact.locale:
            update["locale"] = contact.locale
        await self.session.execute(
            pg_insert(r)
            .values(application_id=contact.application_id, locale=contact.locale or default_locale, **values)
            .on_conflict_do_update(index_elements=[r.c.application_id], set_=update)
        )

    async def forget(self, application_ids: Sequence[uuid.UUID]) -> int:
        """Removes whom these applications are for (their person was erased); returns how many."""
        r = orm.recipients
        result = await self.session.execute(sa.delete(r).where(r.c.application_id.in_(application_ids)))
        return result.rowcount  # type: ignore[attr-defined]  # a DML result has a rowcount

    async def get(self, application_id: uuid.UUID) -> Recipient | None:
        r = orm.recipients
        return await self._one_or_none(sa.select(r).where(r.c.application_id == application_id), _recipient)

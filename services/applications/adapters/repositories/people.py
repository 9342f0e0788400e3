"""People (an institution's staff list): the TC Kimlik No and birth date are stored encrypted;
this repository takes and gives them in plain (``PersonRecord``) and finds people by the keyed
hash."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from esign.db import Executor, copy_rows
from esign.repository import Repository
from services.applications.adapters import orm
from services.applications.adapters.personal_data import PeopleCodec
from services.applications.adapters.repositories.people_columns import (
    PersonRecord,
    open_person,
    person_columns,
    sealed_person,
)


class PeopleRepository(Repository):
    def __init__(self, session: Executor, codec: PeopleCodec) -> None:
        super().__init__(session)
        self._codec = codec

    async def known_tckns(self, institution_id: uuid.UUID, tckns: Iterable[str]) -> set[str]:
        t = orm.people
        # Every configured look-up key: people hashed before a rotation are found too.
        by_hash = {h: tckn for tckn in tckns for h in self._codec.tckn_hashes(tckn)}
        if not by_hash:
            return set()
        rows = await self.session.execute(
            sa.select(t.c.tckn_hash).where(t.c.institution_id == institution_id, t.c.tckn_hash.in_(list(by_hash)))
        )
        return {by_hash[r.tckn_hash] for r in rows}

    async def add_many(self, people: Sequence[PersonRecord]) -> None:
        # COPY in the unit of work's transaction: a 10,000-row staff list is one stream, not
        # 10,000 rows of SQL to build and parse.
        await copy_rows(self.session, orm.people, [sealed_person(self._codec, person) for person in people])

    async def reencrypt_stale(self, limit: int) -> int:
        """Re-encrypts with the current key up to ``limit`` people whose values an older key
        sealed, or whose look-up hash an older look-up key computed (after a rotation). Rows
        another replica is re-encrypting are skipped."""
        t = orm.people
        current = self._codec.stale_prefix()
        lookup_key = self._codec.lookup_key_id
        stale = (
            await self.session.execute(
                sa.select(t.c.id, t.c.tckn_encrypted, t.c.birth_date_encrypted, t.c.birth_place_encrypted)
                .where(
                    sa.or_(
                        ~t.c.tckn_encrypted.startswith(current, autoescape=True),
                        ~t.c.birth_date_encrypted.startswith(current, autoescape=True),
                        ~t.c.birth_place_encrypted.startswith(current, autoescape=True),
                        sa.and_(t.c.tckn_hash.is_not(None), t.c.tckn_hash_key.is_distinct_from(lookup_key)),
                    )
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in stale:
            values = self._codec.resealed(
                row.id, row.tckn_encrypted, row.birth_date_encrypted, row.birth_place_encrypted
            )
            await self.session.execute(sa.update(t).where(t.c.id == row.id).values(**values, updated_at=sa.func.now()))
        return len(stale)

    async def get(self, person_id: uuid.UUID) -> PersonRecord | None:
        # An erased person has nothing left to open: not found.
        query = sa.select(*person_columns()).where(orm.people.c.id == person_id, orm.people.c.erased_at.is_(None))
        return await self._one_or_none(query, lambda row: open_person(self._codec, row))

    async def person(self, person_id: uuid.UUID) -> PersonRecord:
        """The person of an application the caller has loaded (the foreign key guarantees one)."""
        found = await self.get(person_id)
        if found is None:
            raise LookupError(f"no person {person_id}")
        return found

"""The queries that erase people at the end of their purpose (domain/people_retention.py).

Erasing keeps the rows, so counts by status, batches and the audit trail (transitions) stay; what
goes is everything that names or reaches the person: on ``people`` the TC Kimlik No (ciphertext
and look-up hash), names, birth date and place, title, unit, e-mail and mobile; the application
form (address, contacts) and security word; the invitation's link and password hashes; a
renewal's card certificate (it carries the name and the TC Kimlik No), its fingerprint, signed
PDF, validation report and form link, and its prepared signatures. With the look-up hash gone, the
same person on a later staff list is a new person with a new application.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from esign.repository import Repository
from services.applications.adapters import orm
from services.applications.domain.people_retention import (
    ENDED_WITHOUT_CERTIFICATE,
    WAITING_FOR_APPLICANT,
    PeopleRetention,
)

_PEOPLE_PERSONAL_COLUMNS = (
    "tckn_encrypted",
    "tckn_hash",
    "tckn_hash_key",
    "birth_date_encrypted",
    "birth_place_encrypted",
    "first_name",
    "last_name",
    "title",
    "unit",
    "email",
    "mobile",
)


class PeopleErasureRepository(Repository):
    def _still_in_purpose(self, now: datetime, rules: PeopleRetention) -> sa.ColumnElement[bool]:
        """True for an application that still needs its person (see the domain module)."""
        a, i = orm.applications, orm.invitations
        without_since = now - rules.without_certificate
        # A missing certificate may be SQL null or JSON null: its not_after is null either way.
        not_after = sa.cast(a.c.certificate["not_after"].astext, sa.DateTime(timezone=True))
        invitation_expires = sa.select(i.c.expires_at).where(i.c.application_id == a.c.id).scalar_subquery()
        ended = sa.or_(
            not_after < now - rules.after_certificate,
            sa.and_(
                not_after.is_(None),
                a.c.status.in_([s.value for s in ENDED_WITHOUT_CERTIFICATE]),
                a.c.updated_at < without_since,
            ),
            sa.and_(
                not_after.is_(None),
                a.c.status.in_([s.value for s in WAITING_FOR_APPLICANT]),
                invitation_expires < without_since,  # null (not issued yet): not ended
            ),
        )
        return ~sa.func.coalesce(ended, False)

    async def erase_ended(
        self, *, now: datetime, rules: PeopleRetention, limit: int
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Erases up to ``limit`` people past their purpose; returns each erased person's id with
        the ids of their applications. People another transaction holds are skipped (a later pass
        finds them)."""
        p, a = orm.people, orm.applications
        in_purpose = sa.select(a.c.id).where(a.c.person_id == p.c.id, self._still_in_purpose(now, rules))
        ids = list(
            (
                await self.session.execute(
                    sa.select(p.c.id)
                    .where(
                        p.c.erased_at.is_(None),
                        p.c.created_at < now - rules.without_certificate,
                        ~sa.exists(in_purpose),
                    )
                    .order_by(p.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
        )
        if not ids:
            return {}
        await self._erase(ids, now)
        erased: dict[uuid.UUID, list[uuid.UUID]] = {person_id: [] for person_id in ids}
        for application_id, person_id in await self.session.execute(
            sa.select(a.c.id, a.c.person_id).where(a.c.person_id.in_(ids)).order_by(a.c.id)
        ):
            erased[person_id].append(application_id)
        return erased

    async def _erase(self, person_ids: list[uuid.UUID], now: datetime) -> None:
        p, a, i, r, prep = orm.people, orm.applications, orm.invitations, orm.renewals, orm.renewal_preparations
        await self.session.execute(
            sa.update(p)
            .where(p.c.id.in_(person_ids))
            .values({**dict.fromkeys(_PEOPLE_PERSONAL_COLUMNS), "erased_at": now, "updated_at": now})
        )
        their_applications = sa.select(a.c.id).where(a.c.person_id.in_(person_ids))
        await self.session.execute(
            sa.update(a)
            .where(a.c.person_id.in_(person_ids))
            # A new version: a save prepared before the erasure cannot write the form back.
            .values(form={}, security_word_hash=None, version=a.c.version + 1)
        )
        await self.session.execute(
            sa.update(i).where(i.c.application_id.in_(their_applications)).values(token_hash=None, password_hash=None)
        )
        await self.session.execute(
            sa.update(r)
            .where(r.c.application_id.in_(their_applications))
            .values(
                certificate_der=None,
                certificate_fingerprint=None,
                signed_pdf=None,
                validation_report=None,
                form_token_hash=None,
            )
        )
        await self.session.execute(sa.delete(prep).where(prep.c.renewal_id.in_(their_applications)))

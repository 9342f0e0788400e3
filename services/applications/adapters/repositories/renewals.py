"""The renewal side of renewal applications, the sign-in challenges and the prepared signatures
(in PostgreSQL so any replica can finish what another prepared)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from esign.db import Executor
from esign.repository import Page, Repository
from services.applications.adapters import orm
from services.applications.adapters.personal_data import PeopleCodec
from services.applications.adapters.repositories.documents import form_from_document
from services.applications.adapters.repositories.people_columns import PersonRecord, open_person, person_columns
from services.applications.domain.application import RENEWAL_DONE, RENEWAL_OPEN, Kind, Status
from services.applications.domain.form import FormDraft
from services.applications.domain.renewal import Challenge, Preparation, RenewalRecord


@dataclass(frozen=True, slots=True)
class RenewalSummary:
    """A renewal as the officers' list shows it."""

    id: uuid.UUID
    institution_id: uuid.UUID
    status: Status
    form: FormDraft
    batch_id: uuid.UUID | None
    renews_application_id: uuid.UUID | None
    person: PersonRecord
    old_serial: str
    old_not_after: datetime
    e_approved_at: datetime | None
    form_link_expires_at: datetime | None
    form_approved_at: datetime | None

    @property
    def email(self) -> str:
        return self.form.institutional_email or self.person.email


@dataclass(frozen=True, slots=True)
class RenewalState:
    """Where the renewals of one certificate stand."""

    open_renewal_id: uuid.UUID | None  # one open renewal per certificate: resumed at sign-in
    renewed: bool  # a renewal of it was produced already


def _record(row: sa.Row[Any]) -> RenewalRecord:
    return RenewalRecord(
        application_id=row.application_id,
        renewed_application_id=row.renewed_application_id,
        certificate_der=bytes(row.certificate_der),
        certificate_fingerprint=row.certificate_fingerprint,
        old_serial=row.old_serial,
        old_not_after=row.old_not_after,
        e_approved_at=row.e_approved_at,
        signed_pdf=bytes(row.signed_pdf) if row.signed_pdf is not None else None,
        validation_report=row.validation_report,
        form_token_hash=row.form_token_hash,
        form_link_expires_at=row.form_link_expires_at,
        form_approved_at=row.form_approved_at,
    )


def _challenge(row: sa.Row[Any]) -> Challenge:
    return Challenge(row.id, bytes(row.nonce_hash), row.origin, row.expires_at, row.used_at)


def _preparation(row: sa.Row[Any]) -> Preparation:
    return Preparation(
        id=row.id,
        renewal_id=row.renewal_id,
        certificate_fingerprint=row.certificate_fingerprint,
        mechanism=row.mechanism,
        signed_attributes=bytes(row.signed_attributes),
        state=row.state,
        pdf=bytes(row.pdf),
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class RenewalRepository(Repository):
    def __init__(self, session: Executor, codec: PeopleCodec) -> None:
        super().__init__(session)
        self._codec = codec  # the views carry the holder's TC Kimlik No (shown masked)

    async def add(self, record: RenewalRecord) -> None:
        await self.session.execute(sa.insert(orm.renewals).values(**dataclasses.asdict(record)))

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> RenewalRecord | None:
        t = orm.renewals
        query = sa.select(t).where(t.c.application_id == application_id)
        if for_update:
            query = query.with_for_update()
        return await self._one_or_none(query, _record)

    async def of(self, application_id: uuid.UUID, *, for_update: bool = False) -> RenewalRecord:
        """The record of a renewal application the caller has loaded: every renewal has one from
        its sign-in on, so a missing one is a broken invariant, not a refusal."""
        record = await self.get(application_id, for_update=for_update)
        if record is None:
            raise LookupError(f"renewal application {application_id} has no renewal record")
        return record

    async def by_form_token_hash(self, token_hash: str) -> RenewalRecord | None:
        t = orm.renewals
        return await self._one_or_none(sa.select(t).where(t.c.form_token_hash == token_hash).with_for_update(), _record)

    async def save(self, record: RenewalRecord) -> None:
        values = dataclasses.asdict(record)
        del values["application_id"]
        t = orm.renewals
        await self.session.execute(
            sa.update(t).where(t.c.application_id == record.application_id).values(**values, updated_at=sa.func.now())
        )

    async def state_of_certificate(self, renewed_application_id: uuid.UUID) -> RenewalState:
        a = orm.applications
        rows = (
            await self.session.execute(
                sa.select(a.c.id, a.c.status).where(a.c.renews_application_id == renewed_application_id)
            )
        ).all()
        return RenewalState(
            open_renewal_id=next((r.id for r in rows if Status(r.status) in RENEWAL_OPEN), None),
            renewed=any(Status(r.status) in RENEWAL_DONE for r in rows),
        )

    async def claim_stale(
        self, *, drafts_before: datetime, links_expired_before: datetime, limit: int
    ) -> list[uuid.UUID]:
        """Drafts started before ``drafts_before`` and filed renewals whose Renewal Form link
        expired before ``links_expired_before``; locked for this worker (replicas skip them)."""
        a, r = orm.applications, orm.renewals
        rows = (
            await self.session.execute(
                sa.select(a.c.id)
                .join(r, r.c.application_id == a.c.id)
                .where(
                    a.c.kind == Kind.RENEWAL.value,
                    sa.or_(
                        sa.and_(a.c.status == Status.DRAFT.value, a.c.created_at < drafts_before),
                        sa.and_(a.c.status == Status.FILED.value, r.c.form_link_expires_at < links_expired_before),
                    ),
                )
                .order_by(a.c.id)
                .limit(limit)
                .with_for_update(of=a, skip_locked=True)
            )
        ).all()
        return [row.id for row in rows]

    # -- challenges

    async def add_challenge(self, challenge: Challenge) -> None:
        await self.session.execute(sa.insert(orm.renewal_challenges).values(**dataclasses.asdict(challenge)))

    async def challenge(self, challenge_id: uuid.UUID) -> Challenge | None:
        t = orm.renewal_challenges
        return await self._one_or_none(sa.select(t).where(t.c.id == challenge_id).with_for_update(), _challenge)

    async def save_challenge(self, challenge: Challenge) -> None:
        t = orm.renewal_challenges
        await self.session.execute(sa.update(t).where(t.c.id == challenge.id).values(used_at=challenge.used_at))

    async def purge_expired(self, before: datetime) -> None:
        """Old challenges and preparations are useless: delete them as new ones are made."""
        for t in (orm.renewal_challenges, orm.renewal_preparations):
            await self.session.execute(sa.delete(t).where(t.c.expires_at < before))

    # -- prepared signatures

    async def add_preparation(self, prep: Preparation) -> None:
        await self.session.execute(sa.insert(orm.renewal_preparations).values(**dataclasses.asdict(prep)))

    async def preparation(self, preparation_id: uuid.UUID) -> Preparation | None:
        t = orm.renewal_preparations
        return await self._one_or_none(sa.select(t).where(t.c.id == preparation_id).with_for_update(), _preparation)

    async def save_preparation(self, prep: Preparation) -> None:
        t = orm.renewal_preparations
        await self.session.execute(sa.update(t).where(t.c.id == prep.id).values(used_at=prep.used_at))

    # -- read side

    def _summary(self, row: sa.Row[Any]) -> RenewalSummary:
        return RenewalSummary(
            id=row.id,
            institution_id=row.institution_id,
            status=Status(row.status),
            form=form_from_document(row.form or {}),
            batch_id=row.batch_id,
            renews_application_id=row.renews_application_id,
            person=open_person(self._codec, row),
            old_serial=row.old_serial,
            old_not_after=row.old_not_after,
            e_approved_at=row.e_approved_at,
            form_link_expires_at=row.form_link_expires_at,
            form_approved_at=row.form_approved_at,
        )

    async def summaries(
        self, *, institution_id: uuid.UUID | None, statuses: Sequence[Status], limit: int, offset: int
    ) -> Page[RenewalSummary]:
        a, p, r = orm.applications, orm.people, orm.renewals
        conditions = [a.c.kind == Kind.RENEWAL.value, p.c.erased_at.is_(None)]
        if institution_id is not None:
            conditions.append(a.c.institution_id == institution_id)
        if statuses:
            conditions.append(a.c.status.in_([s.value for s in statuses]))
        query = (
            sa.select(
                a.c.id,
                a.c.institution_id,
                a.c.status,
                a.c.form,
                a.c.batch_id,
                a.c.renews_application_id,
                *person_columns(),
                r.c.old_serial,
                r.c.old_not_after,
                r.c.e_approved_at,
                r.c.form_link_expires_at,
                r.c.form_approved_at,
            )
            .select_from(a.join(p, p.c.id == a.c.person_id).join(r, r.c.application_id == a.c.id))
            .where(*conditions)
            .order_by(p.c.last_name, p.c.first_name, a.c.id)
        )
        return await self._page(query, self._summary, offset=offset, limit=limit)

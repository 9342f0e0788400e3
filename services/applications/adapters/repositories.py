"""Every query of the applications service. Repositories translate rows <-> domain objects."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from esign.db import copy_rows
from esign.repository import AggregateRepository
from services.applications.adapters import orm
from services.applications.adapters.personal_data import PeopleCodec
from services.applications.domain.application import (
    FORM_NOT_FILLED,
    RENEWAL_DONE,
    RENEWAL_OPEN,
    Application,
    Certificate,
    Kind,
    Shipment,
    SignedFormChannel,
    SignedFormReceipt,
    Status,
)
from services.applications.domain.form import (
    CardReaderType,
    DeliveryAddress,
    FormDraft,
    PriorCertificateReason,
    ValidityYears,
)
from services.applications.domain.invitation import Invitation, InvitationState
from services.applications.domain.renewal import Challenge, Preparation, RenewalRecord


class ConcurrentUpdate(Exception):
    """Someone else changed the application between our read and our write."""


# ---------------------------------------------------------------- documents <-> value objects


def form_to_document(form: FormDraft) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(form).items() if v is not None}


def form_from_document(doc: dict[str, Any]) -> FormDraft:
    d = dict(doc)
    if d.get("delivery_address"):
        d["delivery_address"] = DeliveryAddress(**d["delivery_address"])
    for key, enum_type in (
        ("card_reader_type", CardReaderType),
        ("validity_years", ValidityYears),
        ("prior_certificate_reason", PriorCertificateReason),
    ):
        if d.get(key) is not None:
            d[key] = enum_type(d[key])
    return FormDraft(**d)


def _receipt_from(doc: dict[str, Any] | None) -> SignedFormReceipt | None:
    if not doc:
        return None
    return SignedFormReceipt(
        SignedFormChannel(doc["channel"]),
        date.fromisoformat(doc["received_on"]),
        doc.get("reference"),
        doc["recorded_by"],
    )


def _receipt_to(r: SignedFormReceipt | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "channel": r.channel.value,
        "received_on": r.received_on.isoformat(),
        "reference": r.reference,
        "recorded_by": r.recorded_by,
    }


def _certificate_from(doc: dict[str, Any] | None) -> Certificate | None:
    if not doc:
        return None
    return Certificate(
        doc["serial"],
        datetime.fromisoformat(doc["not_before"]),
        datetime.fromisoformat(doc["not_after"]),
        doc["card_type"],
    )


def _certificate_to(c: Certificate | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "serial": c.serial,
        "not_before": c.not_before.isoformat(),
        "not_after": c.not_after.isoformat(),
        "card_type": c.card_type,
    }


def _shipment_from(doc: dict[str, Any] | None) -> Shipment | None:
    if not doc:
        return None
    return Shipment(doc["tracking_number"], doc["carrier"], datetime.fromisoformat(doc["last_event_at"]))


def _shipment_to(s: Shipment | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "tracking_number": s.tracking_number,
        "carrier": s.carrier,
        "last_event_at": s.last_event_at.isoformat(),
    }


# ---------------------------------------------------------------- institutions and officers


class InstitutionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, institution_id: uuid.UUID, name: str) -> None:
        await self.session.execute(sa.insert(orm.institutions).values(id=institution_id, name=name))

    async def name_taken(self, name: str) -> bool:
        t = orm.institutions
        return (
            await self.session.execute(sa.select(t.c.id).where(sa.func.lower(t.c.name) == name.lower()))
        ).first() is not None

    async def get(self, institution_id: uuid.UUID) -> sa.Row | None:
        t = orm.institutions
        return (await self.session.execute(sa.select(t).where(t.c.id == institution_id))).first()

    async def list(self, only: uuid.UUID | None = None) -> Sequence[sa.Row]:
        t = orm.institutions
        query = sa.select(t).order_by(t.c.name)
        if only is not None:
            query = query.where(t.c.id == only)
        return (await self.session.execute(query)).all()

    async def add_officer(self, values: dict[str, Any]) -> None:
        await self.session.execute(sa.insert(orm.officers).values(**values))

    async def officer_subject_taken(self, subject: str) -> bool:
        t = orm.officers
        return (await self.session.execute(sa.select(t.c.id).where(t.c.subject == subject))).first() is not None

    async def officers(self, institution_id: uuid.UUID) -> Sequence[sa.Row]:
        t = orm.officers
        return (
            await self.session.execute(sa.select(t).where(t.c.institution_id == institution_id).order_by(t.c.full_name))
        ).all()


# ---------------------------------------------------------------- people (the roster)


class PeopleRepository:
    """The TC Kimlik No and birth date are stored encrypted (adapters/personal_data.py): this
    repository takes and gives them in plain, and finds people by the keyed hash."""

    def __init__(self, session: AsyncSession, codec: PeopleCodec) -> None:
        self.session = session
        self._codec = codec

    async def known_tckns(self, institution_id: uuid.UUID, tckns: Iterable[str]) -> set[str]:
        t = orm.people
        by_hash = {self._codec.tckn_hash(tckn): tckn for tckn in tckns}
        if not by_hash:
            return set()
        rows = await self.session.execute(
            sa.select(t.c.tckn_hash).where(t.c.institution_id == institution_id, t.c.tckn_hash.in_(list(by_hash)))
        )
        return {by_hash[r.tckn_hash] for r in rows}

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        """``rows`` carry ``tckn`` and ``birth_date`` in plain; they are stored encrypted."""
        # COPY in the unit of work's transaction: a 10,000-row staff list is one stream, not
        # 10,000 rows of SQL to build and parse.
        await copy_rows(self.session, orm.people, [self._codec.sealed_person(r) for r in rows])

    async def reencrypt_stale(self, limit: int) -> int:
        """Re-encrypts with the current key up to ``limit`` people whose values an older key
        sealed (after a rotation). Rows another replica is re-encrypting are skipped."""
        t = orm.people
        current = self._codec.stale_prefix()
        stale = (
            await self.session.execute(
                sa.select(t.c.id, t.c.tckn_encrypted, t.c.birth_date_encrypted)
                .where(
                    sa.or_(
                        ~t.c.tckn_encrypted.startswith(current, autoescape=True),
                        ~t.c.birth_date_encrypted.startswith(current, autoescape=True),
                    )
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in stale:
            values = self._codec.resealed(row.id, row.tckn_encrypted, row.birth_date_encrypted)
            await self.session.execute(sa.update(t).where(t.c.id == row.id).values(**values, updated_at=sa.func.now()))
        return len(stale)

    async def get(self, person_id: uuid.UUID) -> SimpleNamespace | None:
        t = orm.people
        row = (await self.session.execute(sa.select(t).where(t.c.id == person_id))).first()
        return self._codec.opened(row, person_id="id") if row else None


# ---------------------------------------------------------------- applications


class ApplicationRepository(AggregateRepository):
    def __init__(self, session: AsyncSession, codec: PeopleCodec) -> None:
        super().__init__(session)
        self._codec = codec  # the views carry the person's TC Kimlik No and birth date

    @staticmethod
    def _from_row(row: sa.Row) -> Application:
        return Application(
            id=row.id,
            institution_id=row.institution_id,
            person_id=row.person_id,
            status=Status(row.status),
            form=form_from_document(row.form or {}),
            security_word_hash=row.security_word_hash,
            signed_form=_receipt_from(row.signed_form),
            batch_id=row.batch_id,
            rejection_reason=row.rejection_reason,
            certificate=_certificate_from(row.certificate),
            shipment=_shipment_from(row.shipment),
            kind=Kind(row.kind),
            renews_application_id=row.renews_application_id,
            version=row.version,
        )

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> Application | None:
        t = orm.applications
        query = sa.select(t).where(t.c.id == application_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return self._register(self._from_row(row)) if row else None

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Application]:
        t = orm.applications
        rows = (
            await self.session.execute(sa.select(t).where(t.c.id.in_(ids)).order_by(t.c.id).with_for_update())
        ).all()
        return [self._register(self._from_row(r)) for r in rows]

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        await copy_rows(self.session, orm.applications, rows)

    async def add(self, app: Application) -> None:
        """Inserts a new aggregate (version 0) and its first audit entries."""
        await self.session.execute(
            sa.insert(orm.applications).values(
                id=app.id,
                institution_id=app.institution_id,
                person_id=app.person_id,
                status=app.status.value,
                form=form_to_document(app.form),
                kind=app.kind.value,
                renews_application_id=app.renews_application_id,
                version=0,
            )
        )
        await self._insert_transitions(app)
        self._register(app)

    async def produced_with_serial(self, serial_hex: str) -> list[Application]:
        """Applications whose recorded certificate serial is this one. Serials are typed by the
        operator (``7F:01:AA``, ``7f01aa``), so both sides are compared as bare upper-case hex
        without leading zeros."""
        t = orm.applications
        recorded = sa.func.ltrim(
            sa.func.upper(sa.func.regexp_replace(t.c.certificate["serial"].astext, r"[\s:.-]", "", "g")), "0"
        )
        rows = (
            await self.session.execute(
                sa.select(t)
                .where(t.c.certificate.is_not(None), recorded == serial_hex.upper().lstrip("0"))
                .with_for_update()
            )
        ).all()
        return [self._register(self._from_row(r)) for r in rows]

    async def renewals_of(self, application_id: uuid.UUID) -> list[Application]:
        t = orm.applications
        rows = (
            await self.session.execute(
                sa.select(t).where(t.c.renews_application_id == application_id).order_by(t.c.created_at)
            )
        ).all()
        return [self._register(self._from_row(r)) for r in rows]

    async def add_transitions(self, rows: list[dict[str, Any]]) -> None:
        """Audit entries written in bulk (the roster import creates thousands at once)."""
        await copy_rows(self.session, orm.transitions, rows)

    async def save(self, app: Application) -> None:
        """Writes the aggregate and its new audit entries; fails if someone saved it meanwhile."""
        t = orm.applications
        result = await self.session.execute(
            sa.update(t)
            .where(t.c.id == app.id, t.c.version == app.version)
            .values(
                status=app.status.value,
                form=form_to_document(app.form),
                security_word_hash=app.security_word_hash,
                signed_form=_receipt_to(app.signed_form),
                batch_id=app.batch_id,
                rejection_reason=app.rejection_reason,
                certificate=_certificate_to(app.certificate),
                shipment=_shipment_to(app.shipment),
                version=app.version + 1,
                updated_at=sa.func.now(),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(app.id)
        app.version += 1
        await self._insert_transitions(app)

    async def _insert_transitions(self, app: Application) -> None:
        if app.events:
            await self.session.execute(
                sa.insert(orm.transitions),
                [
                    {
                        "application_id": e.application_id,
                        "from_status": e.from_status.value,
                        "to_status": e.to_status.value,
                        "actor_role": e.actor.role,
                        "actor_subject": e.actor.subject,
                        "reason": e.reason,
                        "at": e.at,
                    }
                    for e in app.events
                ],
            )

    # -- read side (views for the API)

    def _view_query(self) -> sa.Select:
        a, p, i, inst = orm.applications, orm.people, orm.invitations, orm.institutions
        return (
            sa.select(
                a.c.id,
                a.c.institution_id,
                inst.c.name.label("institution_name"),
                a.c.person_id,
                a.c.status,
                a.c.form,
                a.c.signed_form,
                a.c.batch_id,
                a.c.rejection_reason,
                a.c.certificate,
                a.c.shipment,
                a.c.kind,
                a.c.renews_application_id,
                a.c.created_at,
                a.c.updated_at,
                p.c.tckn_encrypted,
                p.c.first_name,
                p.c.last_name,
                p.c.birth_date_encrypted,
                p.c.birth_place,
                p.c.title,
                p.c.unit,
                p.c.email,
                p.c.mobile,
                i.c.state.label("invitation_state"),
                i.c.expires_at.label("invitation_expires_at"),
                i.c.locked_until.label("invitation_locked_until"),
                i.c.times_issued.label("invitation_times_issued"),
            )
            .join(p, p.c.id == a.c.person_id)
            .join(inst, inst.c.id == a.c.institution_id)
            .outerjoin(i, i.c.application_id == a.c.id)
        )

    async def view(self, application_id: uuid.UUID) -> SimpleNamespace | None:
        a = orm.applications
        row = (await self.session.execute(self._view_query().where(a.c.id == application_id))).first()
        return self._codec.opened(row) if row else None

    async def list_views(
        self,
        *,
        institution_id: uuid.UUID | None,
        statuses: Sequence[Status] | None,
        form_not_filled: bool,
        search: str | None,
        limit: int,
        offset: int,
        kind: Kind | None = None,
        expires_within_days: int | None = None,
    ) -> tuple[int, list[SimpleNamespace]]:
        a, p = orm.applications, orm.people
        conditions = []
        if kind is not None:
            conditions.append(a.c.kind == kind.value)
        if expires_within_days is not None:
            not_after = a.c.certificate["not_after"].astext.cast(sa.DateTime(timezone=True))
            conditions += [
                a.c.certificate.is_not(None),
                not_after >= sa.func.now(),
                not_after < sa.func.now() + sa.func.make_interval(0, 0, 0, expires_within_days),
            ]
        if institution_id is not None:
            conditions.append(a.c.institution_id == institution_id)
        if statuses:
            conditions.append(a.c.status.in_([s.value for s in statuses]))
        if form_not_filled:
            conditions.append(a.c.status.in_([s.value for s in FORM_NOT_FILLED]))
        if search:
            like = f"%{search.replace('%', '').replace('_', '')}%"
            conditions.append(sa.or_(p.c.first_name.ilike(like), p.c.last_name.ilike(like), p.c.email.ilike(like)))
        total = (
            await self.session.execute(
                sa.select(sa.func.count()).select_from(a.join(p, p.c.id == a.c.person_id)).where(*conditions)
            )
        ).scalar_one()
        rows = (
            await self.session.execute(
                self._view_query()
                .where(*conditions)
                .order_by(p.c.last_name, p.c.first_name, a.c.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return total, [self._codec.opened(row) for row in rows]

    async def counts_by_status(self, institution_id: uuid.UUID | None) -> dict[str, int]:
        a = orm.applications
        query = sa.select(a.c.status, sa.func.count()).group_by(a.c.status)
        if institution_id is not None:
            query = query.where(a.c.institution_id == institution_id)
        return {status: n for status, n in (await self.session.execute(query)).all()}

    async def contacts(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, sa.Row]:
        """Names, contact details and institution name: what the events sent to people need."""
        a, p, inst = orm.applications, orm.people, orm.institutions
        rows = (
            await self.session.execute(
                sa.select(
                    a.c.id,
                    a.c.institution_id,
                    inst.c.name.label("institution_name"),
                    p.c.first_name,
                    p.c.last_name,
                    p.c.email,
                    p.c.mobile,
                )
                .join(p, p.c.id == a.c.person_id)
                .join(inst, inst.c.id == a.c.institution_id)
                .where(a.c.id.in_(ids))
            )
        ).all()
        return {r.id: r for r in rows}

    async def history(self, application_id: uuid.UUID) -> Sequence[sa.Row]:
        t = orm.transitions
        return (
            await self.session.execute(sa.select(t).where(t.c.application_id == application_id).order_by(t.c.id))
        ).all()

    async def record_expiry_warning(self, values: dict[str, Any]) -> bool:
        """False when this warning (its event id) is already recorded."""
        stmt = pg_insert(orm.expiry_warnings).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
        return (await self.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def expiry_warnings(self, application_id: uuid.UUID) -> Sequence[sa.Row]:
        w = orm.expiry_warnings
        return (
            await self.session.execute(sa.select(w).where(w.c.application_id == application_id).order_by(w.c.warned_at))
        ).all()


# ---------------------------------------------------------------- invitations


class InvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _from_row(row: sa.Row) -> Invitation:
        return Invitation(
            id=row.id,
            application_id=row.application_id,
            state=InvitationState(row.state),
            token_hash=row.token_hash,
            password_hash=row.password_hash,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            failed_attempts=row.failed_attempts,
            locked_until=row.locked_until,
            times_issued=row.times_issued,
        )

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        await copy_rows(self.session, orm.invitations, rows)

    async def for_application(self, application_id: uuid.UUID) -> Invitation | None:
        t = orm.invitations
        row = (
            await self.session.execute(sa.select(t).where(t.c.application_id == application_id).with_for_update())
        ).first()
        return self._from_row(row) if row else None

    async def by_token_hash(self, token_hash: str) -> Invitation | None:
        t = orm.invitations
        row = (await self.session.execute(sa.select(t).where(t.c.token_hash == token_hash).with_for_update())).first()
        return self._from_row(row) if row else None

    async def claim_pending(self, limit: int) -> list[Invitation]:
        """Pending invitations for this worker alone (other replicas skip the locked rows)."""
        t = orm.invitations
        rows = (
            await self.session.execute(
                sa.select(t)
                .where(t.c.state == InvitationState.PENDING.value)
                .order_by(t.c.created_at, t.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        return [self._from_row(r) for r in rows]

    async def save(self, inv: Invitation) -> None:
        t = orm.invitations
        await self.session.execute(
            sa.update(t)
            .where(t.c.id == inv.id)
            .values(
                state=inv.state.value,
                token_hash=inv.token_hash,
                password_hash=inv.password_hash,
                issued_at=inv.issued_at,
                expires_at=inv.expires_at,
                failed_attempts=inv.failed_attempts,
                locked_until=inv.locked_until,
                times_issued=inv.times_issued,
                updated_at=sa.func.now(),
            )
        )

    async def save_many(self, invitations: Sequence[Invitation]) -> None:
        if not invitations:
            return
        t = orm.invitations
        stmt = (
            sa.update(t)
            .where(t.c.id == sa.bindparam("b_id"))
            .values(
                state=sa.bindparam("b_state"),
                token_hash=sa.bindparam("b_token_hash"),
                password_hash=sa.bindparam("b_password_hash"),
                issued_at=sa.bindparam("b_issued_at"),
                expires_at=sa.bindparam("b_expires_at"),
                failed_attempts=0,
                locked_until=None,
                times_issued=sa.bindparam("b_times_issued"),
                updated_at=sa.func.now(),
            )
        )
        await self.session.execute(
            stmt,
            [
                {
                    "b_id": i.id,
                    "b_state": i.state.value,
                    "b_token_hash": i.token_hash,
                    "b_password_hash": i.password_hash,
                    "b_issued_at": i.issued_at,
                    "b_expires_at": i.expires_at,
                    "b_times_issued": i.times_issued,
                }
                for i in invitations
            ],
        )


# ---------------------------------------------------------------- batches


class BatchRepository:
    def __init__(self, session: AsyncSession, codec: PeopleCodec) -> None:
        self.session = session
        self._codec = codec  # members carry their TC Kimlik No (shown masked)

    async def add(self, batch_id: uuid.UUID, institution_id: uuid.UUID, created_by: str, note: str | None) -> None:
        await self.session.execute(
            sa.insert(orm.batches).values(id=batch_id, institution_id=institution_id, created_by=created_by, note=note)
        )

    async def get(self, batch_id: uuid.UUID) -> sa.Row | None:
        t = orm.batches
        return (await self.session.execute(sa.select(t).where(t.c.id == batch_id))).first()

    async def list(self, institution_id: uuid.UUID | None) -> Sequence[sa.Row]:
        b, a = orm.batches, orm.applications
        query = (
            sa.select(b, sa.func.count(a.c.id).label("size"))
            .outerjoin(a, a.c.batch_id == b.c.id)
            .group_by(b.c.id)
            .order_by(b.c.created_at.desc())
        )
        if institution_id is not None:
            query = query.where(b.c.institution_id == institution_id)
        return (await self.session.execute(query)).all()

    async def members(self, batch_id: uuid.UUID) -> Sequence[SimpleNamespace]:
        a, p = orm.applications, orm.people
        rows = (
            await self.session.execute(
                sa.select(
                    a.c.id,
                    a.c.status,
                    a.c.signed_form,
                    a.c.person_id,
                    p.c.tckn_encrypted,
                    p.c.first_name,
                    p.c.last_name,
                )
                .join(p, p.c.id == a.c.person_id)
                .where(a.c.batch_id == batch_id)
                .order_by(p.c.last_name, p.c.first_name)
            )
        ).all()
        return [self._codec.opened(row) for row in rows]


# ---------------------------------------------------------------- renewals


class RenewalRepository:
    """The renewal side of renewal applications, the sign-in challenges and the prepared
    signatures (in PostgreSQL so any replica can finish what another prepared)."""

    def __init__(self, session: AsyncSession, codec: PeopleCodec) -> None:
        self.session = session
        self._codec = codec  # the views carry the holder's TC Kimlik No (shown masked)

    @staticmethod
    def _record(row: sa.Row) -> RenewalRecord:
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

    async def add(self, record: RenewalRecord) -> None:
        await self.session.execute(sa.insert(orm.renewals).values(**dataclasses.asdict(record)))

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> RenewalRecord | None:
        t = orm.renewals
        query = sa.select(t).where(t.c.application_id == application_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return self._record(row) if row else None

    async def by_form_token_hash(self, token_hash: str) -> RenewalRecord | None:
        t = orm.renewals
        row = (
            await self.session.execute(sa.select(t).where(t.c.form_token_hash == token_hash).with_for_update())
        ).first()
        return self._record(row) if row else None

    async def save(self, record: RenewalRecord) -> None:
        values = dataclasses.asdict(record)
        del values["application_id"]
        t = orm.renewals
        await self.session.execute(
            sa.update(t).where(t.c.application_id == record.application_id).values(**values, updated_at=sa.func.now())
        )

    async def open_or_done_for(self, renewed_application_id: uuid.UUID) -> tuple[uuid.UUID | None, bool]:
        """(the open renewal of this certificate if any, whether it has been renewed already)."""
        a = orm.applications
        rows = (
            await self.session.execute(
                sa.select(a.c.id, a.c.status).where(a.c.renews_application_id == renewed_application_id)
            )
        ).all()
        open_id = next((r.id for r in rows if r.status in {s.value for s in RENEWAL_OPEN}), None)
        done = any(r.status in {s.value for s in RENEWAL_DONE} for r in rows)
        return open_id, done

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
                        sa.and_(a.c.status == "draft", a.c.created_at < drafts_before),
                        sa.and_(a.c.status == "filed", r.c.form_link_expires_at < links_expired_before),
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
        row = (await self.session.execute(sa.select(t).where(t.c.id == challenge_id).with_for_update())).first()
        if row is None:
            return None
        return Challenge(row.id, bytes(row.nonce_hash), row.origin, row.expires_at, row.used_at)

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
        row = (await self.session.execute(sa.select(t).where(t.c.id == preparation_id).with_for_update())).first()
        if row is None:
            return None
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

    async def save_preparation(self, prep: Preparation) -> None:
        t = orm.renewal_preparations
        await self.session.execute(sa.update(t).where(t.c.id == prep.id).values(used_at=prep.used_at))

    # -- read side

    async def views(
        self, *, institution_id: uuid.UUID | None, statuses: Sequence[str] | None, limit: int, offset: int
    ) -> tuple[int, list[SimpleNamespace]]:
        a, p, r = orm.applications, orm.people, orm.renewals
        conditions = [a.c.kind == Kind.RENEWAL.value]
        if institution_id is not None:
            conditions.append(a.c.institution_id == institution_id)
        if statuses:
            conditions.append(a.c.status.in_(list(statuses)))
        joined = a.join(p, p.c.id == a.c.person_id).join(r, r.c.application_id == a.c.id)
        total = (
            await self.session.execute(sa.select(sa.func.count()).select_from(joined).where(*conditions))
        ).scalar_one()
        rows = (
            await self.session.execute(
                sa.select(
                    a.c.id,
                    a.c.institution_id,
                    a.c.status,
                    a.c.form,
                    a.c.batch_id,
                    a.c.renews_application_id,
                    a.c.created_at,
                    a.c.updated_at,
                    a.c.person_id,
                    p.c.tckn_encrypted,
                    p.c.first_name,
                    p.c.last_name,
                    p.c.email,
                    r.c.old_serial,
                    r.c.old_not_after,
                    r.c.e_approved_at,
                    r.c.form_link_expires_at,
                    r.c.form_approved_at,
                )
                .select_from(joined)
                .where(*conditions)
                .order_by(p.c.last_name, p.c.first_name, a.c.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return total, [self._codec.opened(row) for row in rows]

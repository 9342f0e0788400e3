"""Applications: the aggregate (``Application``, with its audit trail written from its
``Transition``s), the views the API shows, and the contact details events to people need."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.db import Executor, copy_rows
from esign.repository import AggregateRepository, Page, PageQuery, ReadQuery
from services.applications.adapters import orm
from services.applications.adapters.personal_data import PeopleCodec
from services.applications.adapters.repositories.documents import (
    certificate_from_document,
    certificate_to_document,
    form_from_document,
    form_to_document,
    receipt_from_document,
    receipt_to_document,
    shipment_from_document,
    shipment_to_document,
)
from services.applications.adapters.repositories.people_columns import PersonRecord, open_person, person_columns
from services.applications.domain.application import (
    FORM_NOT_FILLED,
    Application,
    Certificate,
    Kind,
    Shipment,
    SignedFormReceipt,
    Status,
    Transition,
)
from services.applications.domain.form import FormDraft


class ConcurrentUpdate(Exception):
    """Someone else changed the application between our read and our write."""


@dataclass(frozen=True, slots=True)
class InvitationSummary:
    """The application's invitation as officers see it (all None before one exists)."""

    state: str | None
    expires_at: datetime | None
    locked_until: datetime | None
    times_issued: int | None


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application with its person, institution name and invitation: what the API shows."""

    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    person: PersonRecord
    status: Status
    form: FormDraft
    invitation: InvitationSummary
    signed_form: SignedFormReceipt | None
    batch_id: uuid.UUID | None
    rejection_reason: str | None
    certificate: Certificate | None
    shipment: Shipment | None
    kind: Kind
    renews_application_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ContactDetails:
    """Names, contact details and institution name of an application's person: what the events
    sent to people need."""

    application_id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    first_name: str
    last_name: str
    email: str
    mobile: str


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One entry of the audit trail as stored (``from_status`` is ``"new"`` for a creation)."""

    from_status: str
    to_status: str
    actor_role: str
    actor_subject: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ExpiryWarningRecord:
    event_id: uuid.UUID  # the notifications service's event: one row per warning
    application_id: uuid.UUID
    certificate_serial: str
    not_after: datetime
    days_before: int
    warned_at: datetime


def _application(row: sa.Row[Any]) -> Application:
    return Application(
        id=row.id,
        institution_id=row.institution_id,
        person_id=row.person_id,
        status=Status(row.status),
        form=form_from_document(row.form or {}),
        security_word_hash=row.security_word_hash,
        signed_form=receipt_from_document(row.signed_form),
        batch_id=row.batch_id,
        rejection_reason=row.rejection_reason,
        certificate=certificate_from_document(row.certificate),
        shipment=shipment_from_document(row.shipment),
        kind=Kind(row.kind),
        renews_application_id=row.renews_application_id,
        version=row.version,
    )


def _audit_row(transition: Transition) -> dict[str, Any]:
    return {
        "application_id": transition.application_id,
        "from_status": transition.from_status_name,
        "to_status": transition.to_status.value,
        "actor_role": transition.actor.role,
        "actor_subject": transition.actor.subject,
        "reason": transition.reason,
        "at": transition.at,
    }


def _contact(row: sa.Row[Any]) -> ContactDetails:
    return ContactDetails(
        application_id=row.id,
        institution_id=row.institution_id,
        institution_name=row.institution_name,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        mobile=row.mobile,
    )


def _transition_record(row: sa.Row[Any]) -> TransitionRecord:
    return TransitionRecord(
        from_status=row.from_status,
        to_status=row.to_status,
        actor_role=row.actor_role,
        actor_subject=row.actor_subject,
        reason=row.reason,
        at=row.at,
    )


def _expiry_warning(row: sa.Row[Any]) -> ExpiryWarningRecord:
    return ExpiryWarningRecord(
        event_id=row.event_id,
        application_id=row.application_id,
        certificate_serial=row.certificate_serial,
        not_after=row.not_after,
        days_before=row.days_before,
        warned_at=row.warned_at,
    )


def _build_view_query() -> sa.Select[Any]:
    a, p, i, inst = orm.applications, orm.people, orm.invitations, orm.institutions
    return (
        sa.select(
            a.c.id,
            a.c.institution_id,
            inst.c.name.label("institution_name"),
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
            *person_columns(),
            i.c.state.label("invitation_state"),
            i.c.expires_at.label("invitation_expires_at"),
            i.c.locked_until.label("invitation_locked_until"),
            i.c.times_issued.label("invitation_times_issued"),
        )
        .join(p, p.c.id == a.c.person_id)
        .join(inst, inst.c.id == a.c.institution_id)
        .outerjoin(i, i.c.application_id == a.c.id)
        .where(p.c.erased_at.is_(None))  # an erased person's applications are counted, not shown
    )


# Built once: a Select is immutable (each .where() makes a new one), and building this one cost
# about 5 % of a view read's CPU when it was rebuilt per request (docs/benchmarks.md).
VIEW_QUERY = _build_view_query()
VIEW_BY_ID = ReadQuery(VIEW_QUERY.where(orm.applications.c.id == sa.bindparam("application_id")))


@functools.cache
def _listing(filters: frozenset[str], *, form_not_filled: bool) -> PageQuery:
    """The officers' and operators' listing with the given filters (the names of its bind
    parameters), built once per combination: the console polls it, and building it (and its cache
    key) per request was about 7 % of a 50-row page's CPU (docs/benchmarks.md)."""
    a, p = orm.applications, orm.people
    conditions: list[sa.ColumnElement[bool]] = []
    if "kind" in filters:
        conditions.append(a.c.kind == sa.bindparam("kind"))
    if "expires_within_days" in filters:
        not_after = a.c.certificate["not_after"].astext.cast(sa.DateTime(timezone=True))
        days = sa.bindparam("expires_within_days", type_=sa.Integer)
        conditions += [
            a.c.certificate.is_not(None),
            not_after >= sa.func.now(),
            not_after < sa.func.now() + sa.func.make_interval(0, 0, 0, days),
        ]
    if "institution_id" in filters:
        conditions.append(a.c.institution_id == sa.bindparam("institution_id"))
    if "statuses" in filters:
        conditions.append(a.c.status == sa.any_(sa.bindparam("statuses", type_=ARRAY(sa.Text))))
    if form_not_filled:
        waiting = sa.bindparam("form_not_filled", [s.value for s in FORM_NOT_FILLED], type_=ARRAY(sa.Text))
        conditions.append(a.c.status == sa.any_(waiting))
    if "like" in filters:
        like = sa.bindparam("like", type_=sa.Text)
        conditions.append(sa.or_(p.c.first_name.ilike(like), p.c.last_name.ilike(like), p.c.email.ilike(like)))
    return PageQuery.of(VIEW_QUERY.where(*conditions).order_by(p.c.last_name, p.c.first_name, a.c.id))


class ApplicationRepository(AggregateRepository):
    def __init__(self, session: Executor, codec: PeopleCodec) -> None:
        super().__init__(session)
        self._codec = codec  # the views carry the person's TC Kimlik No and birth date

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> Application | None:
        t = orm.applications
        query = sa.select(t).where(t.c.id == application_id)
        if for_update:
            query = query.with_for_update()
        app = await self._one_or_none(query, _application)
        return None if app is None else self._register(app)

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Application]:
        t = orm.applications
        query = sa.select(t).where(t.c.id.in_(ids)).order_by(t.c.id).with_for_update()
        return [self._register(_application(row)) for row in await self.session.execute(query)]

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

    async def add_imported(self, apps: Sequence[Application]) -> None:
        """New applications of a staff list and their audit entries, written with COPY (thousands
        at once). Not registered: their ``Transition``s become audit rows here, not events (the
        import is announced by the invitations it issues, not by thousands of status changes)."""
        rows: list[dict[str, Any]] = []
        audit: list[dict[str, Any]] = []
        for app in apps:
            rows.append(
                {
                    "id": app.id,
                    "institution_id": app.institution_id,
                    "person_id": app.person_id,
                    "status": app.status.value,
                    "form": form_to_document(app.form),
                }
            )
            audit.extend(_audit_row(transition) for transition in app.pull_events())
        await copy_rows(self.session, orm.applications, rows)
        await copy_rows(self.session, orm.transitions, audit)

    async def produced_with_serial(self, serial_hex: str) -> list[Application]:
        """Applications whose recorded certificate serial is this one. Serials are typed by the
        operator (``7F:01:AA``, ``7f01aa``), so both sides are compared as bare upper-case hex
        without leading zeros."""
        t = orm.applications
        recorded = sa.func.ltrim(
            sa.func.upper(sa.func.regexp_replace(t.c.certificate["serial"].astext, r"[\s:.-]", "", "g")), "0"
        )
        query = (
            sa.select(t)
            .where(t.c.certificate.is_not(None), recorded == serial_hex.upper().lstrip("0"))
            .with_for_update()
        )
        return [self._register(_application(row)) for row in await self.session.execute(query)]

    async def renewals_of(self, application_id: uuid.UUID) -> list[Application]:
        t = orm.applications
        query = sa.select(t).where(t.c.renews_application_id == application_id).order_by(t.c.created_at)
        return [self._register(_application(row)) for row in await self.session.execute(query)]

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
                signed_form=receipt_to_document(app.signed_form),
                batch_id=app.batch_id,
                rejection_reason=app.rejection_reason,
                certificate=certificate_to_document(app.certificate),
                shipment=shipment_to_document(app.shipment),
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
            await self.session.execute(sa.insert(orm.transitions), [_audit_row(e) for e in app.events])

    # -- read side (views for the API)

    def _open_view(self, row: sa.Row[Any]) -> ApplicationView:
        return ApplicationView(
            id=row.id,
            institution_id=row.institution_id,
            institution_name=row.institution_name,
            person=open_person(self._codec, row),
            status=Status(row.status),
            form=form_from_document(row.form or {}),
            invitation=InvitationSummary(
                state=row.invitation_state,
                expires_at=row.invitation_expires_at,
                locked_until=row.invitation_locked_until,
                times_issued=row.invitation_times_issued,
            ),
            signed_form=receipt_from_document(row.signed_form),
            batch_id=row.batch_id,
            rejection_reason=row.rejection_reason,
            certificate=certificate_from_document(row.certificate),
            shipment=shipment_from_document(row.shipment),
            kind=Kind(row.kind),
            renews_application_id=row.renews_application_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def view(self, application_id: uuid.UUID) -> ApplicationView | None:
        return await self._one_or_none(VIEW_BY_ID, self._open_view, {"application_id": application_id})

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
    ) -> Page[ApplicationView]:
        params: dict[str, Any] = {}
        if kind is not None:
            params["kind"] = kind.value
        if expires_within_days is not None:
            params["expires_within_days"] = expires_within_days
        if institution_id is not None:
            params["institution_id"] = institution_id
        if statuses:
            params["statuses"] = [s.value for s in statuses]
        if search:
            params["like"] = f"%{search.replace('%', '').replace('_', '')}%"
        query = _listing(frozenset(params), form_not_filled=form_not_filled)
        return await self._page(query, self._open_view, offset=offset, limit=limit, params=params)

    async def counts_by_status(self, institution_id: uuid.UUID | None) -> dict[str, int]:
        a = orm.applications
        query = sa.select(a.c.status, sa.func.count()).group_by(a.c.status)
        if institution_id is not None:
            query = query.where(a.c.institution_id == institution_id)
        return {status: n for status, n in (await self.session.execute(query)).all()}

    async def contacts(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ContactDetails]:
        a, p, inst = orm.applications, orm.people, orm.institutions
        query: sa.Select[Any] = (
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
        return {row.id: _contact(row) for row in await self.session.execute(query)}

    async def contact(self, application_id: uuid.UUID) -> ContactDetails:
        """The contact details of an application the caller has loaded (so it exists)."""
        return (await self.contacts([application_id]))[application_id]

    async def history(self, application_id: uuid.UUID) -> list[TransitionRecord]:
        t = orm.transitions
        query = sa.select(t).where(t.c.application_id == application_id).order_by(t.c.id)
        return [_transition_record(row) for row in await self.session.execute(query)]

    async def record_expiry_warning(self, warning: ExpiryWarningRecord) -> bool:
        """False when this warning (its event id) is already recorded."""
        stmt = (
            pg_insert(orm.expiry_warnings)
            .values(
                event_id=warning.event_id,
                application_id=warning.application_id,
                certificate_serial=warning.certificate_serial,
                not_after=warning.not_after,
                days_before=warning.days_before,
                warned_at=warning.warned_at,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        return (await self.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def expiry_warnings(self, application_id: uuid.UUID) -> list[ExpiryWarningRecord]:
        w = orm.expiry_warnings
        query = sa.select(w).where(w.c.application_id == application_id).order_by(w.c.warned_at)
        return [_expiry_warning(row) for row in await self.session.execute(query)]

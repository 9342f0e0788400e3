"""Produced certificates and the expiry reminders decided for them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import Repository
from services.notifications.adapters import orm


@dataclass(frozen=True, kw_only=True)
class ProducedCertificate:
    """A certificate as ``applications.certificate.produced`` announced it, with whom to remind."""

    serial: str
    holder_id: uuid.UUID
    application_id: uuid.UUID
    institution_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    mobile: str | None
    locale: str
    not_after: datetime
    produced_at: datetime


@dataclass(frozen=True, kw_only=True)
class Certificate(ProducedCertificate):
    id: uuid.UUID


def _certificate(row: sa.Row[Any]) -> Certificate:
    return Certificate(
        id=row.id,
        serial=row.serial,
        holder_id=row.holder_id,
        application_id=row.application_id,
        institution_id=row.institution_id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        mobile=row.mobile,
        locale=row.locale,
        not_after=row.not_after,
        produced_at=row.produced_at,
    )


class CertificateRepository(Repository):
    async def add(self, produced: ProducedCertificate) -> bool:
        """Records a produced certificate (once per serial); older ones of the holder are superseded."""
        c = orm.certificates
        inserted = (
            await self.session.execute(
                pg_insert(c)
                .values(
                    id=uuid.uuid4(),
                    serial=produced.serial,
                    holder_id=produced.holder_id,
                    application_id=produced.application_id,
                    institution_id=produced.institution_id,
                    first_name=produced.first_name,
                    last_name=produced.last_name,
                    email=produced.email,
                    mobile=produced.mobile,
                    locale=produced.locale,
                    not_after=produced.not_after,
                    produced_at=produced.produced_at,
                )
                .on_conflict_do_nothing(index_elements=[c.c.serial])
                .returning(c.c.id)
            )
        ).first()
        await self.session.execute(
            sa.update(c)
            .where(
                c.c.holder_id == produced.holder_id,
                c.c.serial != produced.serial,
                c.c.not_after < produced.not_after,
                c.c.superseded_at.is_(None),
            )
            .values(superseded_at=produced.produced_at)
        )
        return inserted is not None

    async def record_renewal(self, holder_id: uuid.UUID, renewal_application_id: uuid.UUID, at: datetime) -> int:
        """Stops reminders for the holder's certificates other than the renewal's own."""
        c = orm.certificates
        result = await self.session.execute(
            sa.update(c)
            .where(
                c.c.holder_id == holder_id,
                c.c.application_id != renewal_application_id,
                c.c.renewal_recorded_at.is_(None),
            )
            .values(renewal_recorded_at=at)
        )
        return result.rowcount  # type: ignore[attr-defined]

    async def forget(self, holder_id: uuid.UUID, application_ids: Sequence[uuid.UUID]) -> int:
        """Removes the certificates of an erased person (by holder, and by application for safety)
        with their reminder decisions, so no reminder is ever scheduled for them. Returns how many."""
        c, reminders = orm.certificates, orm.expiry_reminders
        theirs = sa.or_(c.c.holder_id == holder_id, c.c.application_id.in_(application_ids))
        await self.session.execute(
            sa.delete(reminders).where(reminders.c.certificate_id.in_(sa.select(c.c.id).where(theirs)))
        )
        result = await self.session.execute(sa.delete(c).where(theirs))
        return result.rowcount  # type: ignore[attr-defined]  # a DML result has a rowcount

    async def claim_due(
        self,
        now: datetime,
        steps: Sequence[int],
        limit: int,
        *,
        after: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[Certificate]:
        """Active certificates with a reminder step due and not yet decided, locked for this
        scheduler (another replica skips them). "Not decided" means: no reminder recorded at
        that step or a later (smaller) one. In (not_after, id) order; ``after`` continues a sweep
        behind the last certificate of its previous batch, so each batch reads the window once
        instead of from its start, past every certificate the sweep has just decided."""
        c, reminders = orm.certificates, orm.expiry_reminders
        step = sa.values(sa.column("s", sa.Integer), name="steps").data([(s,) for s in steps])
        undecided_due_step = (
            sa.select(1)
            .select_from(step)
            .where(
                c.c.not_after - sa.func.make_interval(0, 0, 0, step.c.s) <= now,
                ~sa.exists()
                .where(reminders.c.certificate_id == c.c.id, reminders.c.days_before <= step.c.s)
                .correlate(c, step),
            )
            .correlate(c)
        )
        query = (
            sa.select(c)
            .where(
                c.c.superseded_at.is_(None),
                c.c.renewal_recorded_at.is_(None),
                c.c.not_after > now,
                # Nothing expiring later than the first step is due: this bound keeps the index
                # scan to the window instead of every active certificate when fewer than
                # ``limit`` are due (the last batch of every sweep).
                c.c.not_after <= now + timedelta(days=max(steps)),
                sa.exists(undecided_due_step),
            )
            .order_by(c.c.not_after, c.c.id)
            .limit(limit)
            .with_for_update(of=c, skip_locked=True)
        )
        if after is not None:
            # The plain bound lets the not_after index start there; the pair breaks ties.
            query = query.where(c.c.not_after >= after[0], sa.tuple_(c.c.not_after, c.c.id) > sa.tuple_(*after))
        return [_certificate(row) for row in await self.session.execute(query)]

    async def recorded_steps(self, certificate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[int]]:
        """The steps already recorded for each of these certificates (one query for a batch)."""
        reminders = orm.expiry_reminders
        recorded: dict[uuid.UUID, set[int]] = {i: set() for i in certificate_ids}
        rows = await self.session.execute(
            sa.select(reminders.c.certificate_id, reminders.c.days_before).where(
                reminders.c.certificate_id.in_(certificate_ids)
            )
        )
        for certificate_id, days_before in rows:
            recorded[certificate_id].add(days_before)
        return recorded

    async def record_reminders(
        self, decisions: Sequence[tuple[uuid.UUID, int, Sequence[int]]], now: datetime
    ) -> set[uuid.UUID]:
        """Records (certificate, step sent, steps skipped) decisions in one statement; returns the
        certificates whose sent step this call decided (the unique key makes a second decision a
        no-op, e.g. another replica's)."""
        reminders = orm.expiry_reminders
        rows = [
            {"certificate_id": certificate_id, "days_before": step, "status": status, "decided_at": now}
            for certificate_id, sent, skipped in decisions
            for step, status in [(sent, "sent"), *((s, "skipped") for s in skipped)]
        ]
        if not rows:
            return set()
        result = await self.session.execute(
            pg_insert(reminders).on_conflict_do_nothing().returning(reminders.c.certificate_id, reminders.c.status),
            rows,
        )
        return {row.certificate_id for row in result.all() if row.status == "sent"}

    async def reminders(self, certificate_id: uuid.UUID) -> dict[int, str]:
        """Step (days before the end) -> sent or skipped."""
        reminders = orm.expiry_reminders
        rows = await self.session.execute(
            sa.select(reminders.c.days_before, reminders.c.status).where(reminders.c.certificate_id == certificate_id)
        )
        return {days_before: status for days_before, status in rows}

    async def expiring(
        self, now: datetime, until: datetime, institution_id: uuid.UUID | None = None
    ) -> list[Certificate]:
        c = orm.certificates
        query = (
            sa.select(c)
            .where(
                c.c.superseded_at.is_(None),
                c.c.renewal_recorded_at.is_(None),
                c.c.not_after > now,
                c.c.not_after <= until,
            )
            .order_by(c.c.institution_id, c.c.not_after)
        )
        if institution_id:
            query = query.where(c.c.institution_id == institution_id)
        return [_certificate(row) for row in await self.session.execute(query)]

    async def institutions_expiring(self, now: datetime, until: datetime) -> set[uuid.UUID]:
        """Institutions with an active certificate expiring in (now, until]."""
        c = orm.certificates
        query = (
            sa.select(c.c.institution_id)
            .distinct()
            .where(
                c.c.superseded_at.is_(None),
                c.c.renewal_recorded_at.is_(None),
                c.c.not_after > now,
                c.c.not_after <= until,
            )
        )
        return set((await self.session.execute(query)).scalars())

"""Every query of the notifications service."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters import orm
from services.notifications.domain.delivery import (
    RESENDABLE,
    Channel,
    DeliveryRecord,
    DeliveryStatus,
    NewDelivery,
    Outcome,
)

_deliveries = orm.deliveries


class RecipientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def remember(
        self,
        application_id: uuid.UUID,
        institution_id: uuid.UUID,
        first_name: str,
        last_name: str,
        email: str,
        mobile: str | None,
        locale: str | None,
        default_locale: str,
    ) -> None:
        """Keeps the latest contact data; the locale only changes when an event states one."""
        r = orm.recipients
        values: dict[str, Any] = {
            "institution_id": institution_id,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "updated_at": sa.func.now(),
        }
        if mobile:
            values["mobile"] = mobile
        update = dict(values)
        if locale:
            update["locale"] = locale
        await self._s.execute(
            pg_insert(r)
            .values(application_id=application_id, locale=locale or default_locale, **values)
            .on_conflict_do_update(index_elements=[r.c.application_id], set_=update)
        )

    async def get(self, application_id: uuid.UUID) -> sa.Row | None:
        return (
            await self._s.execute(sa.select(orm.recipients).where(orm.recipients.c.application_id == application_id))
        ).first()


class DirectoryRepository:
    """Institutions and their NES officers, for the digests."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def institution(self, institution_id: uuid.UUID, name: str) -> None:
        i = orm.institutions
        await self._s.execute(
            pg_insert(i)
            .values(id=institution_id, name=name)
            .on_conflict_do_update(index_elements=[i.c.id], set_={"name": name})
        )

    async def officer(
        self, officer_id: uuid.UUID, institution_id: uuid.UUID, full_name: str, email: str, mobile: str | None
    ) -> None:
        o = orm.officers
        values = {"institution_id": institution_id, "full_name": full_name, "email": email, "mobile": mobile}
        await self._s.execute(
            pg_insert(o).values(id=officer_id, **values).on_conflict_do_update(index_elements=[o.c.id], set_=values)
        )

    async def officers_of(self, institution_id: uuid.UUID) -> Sequence[sa.Row]:
        o = orm.officers
        return (
            await self._s.execute(sa.select(o).where(o.c.institution_id == institution_id).order_by(o.c.full_name))
        ).all()

    async def institutions_with_officers(self, institution_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        o = orm.officers
        rows = await self._s.execute(
            sa.select(o.c.institution_id).where(o.c.institution_id.in_(institution_ids)).distinct()
        )
        return set(rows.scalars())

    async def institution_name(self, institution_id: uuid.UUID) -> str | None:
        i = orm.institutions
        return (await self._s.execute(sa.select(i.c.name).where(i.c.id == institution_id))).scalar()


@dataclass(frozen=True)
class DeliveryFilter:
    status: DeliveryStatus | None = None
    channel: str | None = None
    template: str | None = None
    application_id: uuid.UUID | None = None
    institution_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def enqueue(self, deliveries: Sequence[NewDelivery], now: datetime | None = None) -> int:
        """Records deliveries; one already recorded for the same (event, channel, recipient) is
        left alone, so a replayed event or a second replica adds nothing. Returns how many were new."""
        if not deliveries:
            return 0
        rows = [
            {
                "id": uuid.uuid4(),
                "source_event_id": n.source_event_id,
                "channel": n.channel.value,
                "recipient": n.recipient,
                "template": n.template,
                "locale": n.locale,
                "context": n.context,
                "sealed_secret": n.sealed_secret,
                "application_id": n.application_id,
                "institution_id": n.institution_id,
                "status": DeliveryStatus.QUEUED.value,
                **({"next_attempt_at": now, "created_at": now} if now else {}),
            }
            for n in deliveries
        ]
        # Parameters as a list (insertmanyvalues: a cached statement, batched), not .values(rows),
        # which compiles a new statement with a placeholder per value on every call.
        result = await self._s.execute(
            pg_insert(_deliveries)
            .on_conflict_do_nothing(
                index_elements=[_deliveries.c.source_event_id, _deliveries.c.channel, _deliveries.c.recipient],
                index_where=_deliveries.c.contact_masked_at.is_(None),
            )
            .returning(_deliveries.c.id),
            rows,
        )
        return len(result.all())

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> Sequence[sa.Row]:
        """Takes up to ``limit`` due deliveries for this worker: each row goes to one worker
        (SKIP LOCKED), and pushing ``next_attempt_at`` by the lease keeps others off it after
        commit, until the lease runs out (a worker that died mid-send)."""
        due = (
            sa.select(_deliveries.c.id)
            .where(_deliveries.c.status == DeliveryStatus.QUEUED.value, _deliveries.c.next_attempt_at <= now)
            .order_by(_deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        result = await self._s.execute(
            sa.update(_deliveries)
            .where(_deliveries.c.id.in_(sa.select(due.c.id)))
            .values(attempts=_deliveries.c.attempts + 1, next_attempt_at=now + lease, updated_at=now)
            .returning(*_deliveries.c)
        )
        return result.all()

    async def release(self, claims: Sequence[tuple[uuid.UUID, int]], now: datetime) -> None:
        """Gives claimed deliveries back unattempted (their attempt is not counted)."""
        for delivery_id, attempt in claims:
            await self._s.execute(
                sa.update(_deliveries)
                .where(
                    _deliveries.c.id == delivery_id,
                    _deliveries.c.attempts == attempt,
                    _deliveries.c.status == DeliveryStatus.QUEUED.value,
                )
                .values(attempts=_deliveries.c.attempts - 1, next_attempt_at=now, updated_at=now)
            )

    async def finish(self, delivery_id: uuid.UUID, attempt: int, outcome: Outcome, now: datetime) -> bool:
        """Records an attempt's outcome, unless the delivery moved on meanwhile (another worker
        took it after our lease ran out, or an operator re-queued it)."""
        values: dict[str, Any] = {"status": outcome.status.value, "updated_at": now, "last_error": outcome.error}
        if outcome.status is DeliveryStatus.SENT:
            values.update(provider_ref=outcome.provider_ref, sent_at=now, last_error=None)
        if outcome.next_attempt_at is not None:
            values["next_attempt_at"] = outcome.next_attempt_at
        result = await self._s.execute(
            sa.update(_deliveries)
            .where(
                _deliveries.c.id == delivery_id,
                _deliveries.c.attempts == attempt,
                _deliveries.c.status == DeliveryStatus.QUEUED.value,
            )
            .values(**values)
            .returning(_deliveries.c.id)
        )
        return result.first() is not None

    async def get(self, delivery_id: uuid.UUID) -> DeliveryRecord | None:
        row = (await self._s.execute(sa.select(_deliveries).where(_deliveries.c.id == delivery_id))).first()
        return _delivery_record(row) if row else None

    async def page(self, f: DeliveryFilter, limit: int, offset: int) -> tuple[int, list[DeliveryRecord]]:
        conditions = []
        if f.status:
            conditions.append(_deliveries.c.status == f.status.value)
        if f.channel:
            conditions.append(_deliveries.c.channel == f.channel)
        if f.template:
            conditions.append(_deliveries.c.template == f.template)
        if f.application_id:
            conditions.append(_deliveries.c.application_id == f.application_id)
        if f.institution_id:
            conditions.append(_deliveries.c.institution_id == f.institution_id)
        if f.since:
            conditions.append(_deliveries.c.created_at >= f.since)
        if f.until:
            conditions.append(_deliveries.c.created_at < f.until)
        where = sa.and_(sa.true(), *conditions)
        total = (await self._s.execute(sa.select(sa.func.count()).select_from(_deliveries).where(where))).scalar_one()
        rows = (
            await self._s.execute(
                sa.select(_deliveries)
                .where(where)
                .order_by(_deliveries.c.created_at.desc(), _deliveries.c.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return total, [_delivery_record(row) for row in rows]

    async def mask_old_contacts(self, created_before: datetime, limit: int, mask: Callable[[str], str]) -> int:
        """Finished deliveries (sent, failed, dead) created before ``created_before``: the
        recipient replaced by ``mask(recipient)``, the template data (names, tracking numbers)
        and any sealed secret removed (the error text was masked when stored). At most ``limit`` rows."""
        due = (
            await self._s.execute(
                sa.select(_deliveries.c.id, _deliveries.c.recipient)
                .where(_deliveries.c.contact_masked_at.is_(None), _deliveries.c.status != DeliveryStatus.QUEUED.value)
                .where(_deliveries.c.created_at < created_before)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not due:
            return 0
        masked = sa.case({row.id: mask(row.recipient) for row in due}, value=_deliveries.c.id)
        await self._s.execute(
            sa.update(_deliveries)
            .where(_deliveries.c.id.in_([row.id for row in due]))
            .values(
                recipient=masked,
                context={},
                sealed_secret=None,
                contact_masked_at=sa.func.now(),
                updated_at=sa.func.now(),
            )
        )
        return len(due)

    async def requeue(self, delivery_id: uuid.UUID, now: datetime) -> DeliveryRecord | None:
        """Failed or dead -> queued with a fresh attempt count; None if it is neither."""
        result = await self._s.execute(
            sa.update(_deliveries)
            .where(_deliveries.c.id == delivery_id, _deliveries.c.status.in_([s.value for s in RESENDABLE]))
            .where(_deliveries.c.contact_masked_at.is_(None))  # its recipient is gone: nowhere to send it
            .values(
                status=DeliveryStatus.QUEUED.value,
                attempts=0,
                resends=_deliveries.c.resends + 1,
                next_attempt_at=now,
                updated_at=now,
                last_error=None,
            )
            .returning(*_deliveries.c)
        )
        row = result.first()
        return _delivery_record(row) if row else None


def _delivery_record(row: sa.Row) -> DeliveryRecord:
    m = row._mapping
    return DeliveryRecord(
        id=m["id"],
        source_event_id=m["source_event_id"],
        channel=Channel(m["channel"]),
        template=m["template"],
        locale=m["locale"],
        recipient=m["recipient"],
        status=DeliveryStatus(m["status"]),
        attempts=m["attempts"],
        resends=m["resends"],
        provider_ref=m["provider_ref"],
        last_error=m["last_error"],
        application_id=m["application_id"],
        institution_id=m["institution_id"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        sent_at=m["sent_at"],
        contact_masked_at=m["contact_masked_at"],
    )


_certificates = orm.certificates
_reminders = orm.expiry_reminders


class CertificateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, values: dict[str, Any]) -> bool:
        """Records a produced certificate (once per serial); older ones of the holder are superseded."""
        inserted = (
            await self._s.execute(
                pg_insert(_certificates)
                .values(id=uuid.uuid4(), **values)
                .on_conflict_do_nothing(index_elements=[_certificates.c.serial])
                .returning(_certificates.c.id)
            )
        ).first()
        await self._s.execute(
            sa.update(_certificates)
            .where(
                _certificates.c.holder_id == values["holder_id"],
                _certificates.c.serial != values["serial"],
                _certificates.c.not_after < values["not_after"],
                _certificates.c.superseded_at.is_(None),
            )
            .values(superseded_at=values["produced_at"])
        )
        return inserted is not None

    async def record_renewal(self, holder_id: uuid.UUID, renewal_application_id: uuid.UUID, at: datetime) -> int:
        """Stops reminders for the holder's certificates other than the renewal's own."""
        result = await self._s.execute(
            sa.update(_certificates)
            .where(
                _certificates.c.holder_id == holder_id,
                _certificates.c.application_id != renewal_application_id,
                _certificates.c.renewal_recorded_at.is_(None),
            )
            .values(renewal_recorded_at=at)
        )
        return result.rowcount  # type: ignore[attr-defined]

    async def claim_due(self, now: datetime, steps: Sequence[int], limit: int) -> Sequence[sa.Row]:
        """Active certificates with a reminder step due and not yet decided, locked for this
        scheduler (another replica skips them). "Not decided" means: no reminder recorded at
        that step or a later (smaller) one."""
        step = sa.values(sa.column("s", sa.Integer), name="steps").data([(s,) for s in steps])
        undecided_due_step = (
            sa.select(1)
            .select_from(step)
            .where(
                _certificates.c.not_after - sa.func.make_interval(0, 0, 0, step.c.s) <= now,
                ~sa.exists()
                .where(_reminders.c.certificate_id == _certificates.c.id, _reminders.c.days_before <= step.c.s)
                .correlate(_certificates, step),
            )
            .correlate(_certificates)
        )
        query = (
            sa.select(_certificates)
            .where(
                _certificates.c.superseded_at.is_(None),
                _certificates.c.renewal_recorded_at.is_(None),
                _certificates.c.not_after > now,
                # Nothing expiring later than the first step is due: this bound keeps the index
                # scan to the window instead of every active certificate when fewer than
                # ``limit`` are due (the last batch of every sweep).
                _certificates.c.not_after <= now + timedelta(days=max(steps)),
                sa.exists(undecided_due_step),
            )
            .order_by(_certificates.c.not_after)
            .limit(limit)
            .with_for_update(of=_certificates, skip_locked=True)
        )
        return (await self._s.execute(query)).all()

    async def recorded_steps(self, certificate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[int]]:
        """The steps already recorded for each of these certificates (one query for a batch)."""
        recorded: dict[uuid.UUID, set[int]] = {i: set() for i in certificate_ids}
        rows = await self._s.execute(
            sa.select(_reminders.c.certificate_id, _reminders.c.days_before).where(
                _reminders.c.certificate_id.in_(certificate_ids)
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
        rows = [
            {"certificate_id": certificate_id, "days_before": step, "status": status, "decided_at": now}
            for certificate_id, sent, skipped in decisions
            for step, status in [(sent, "sent"), *((s, "skipped") for s in skipped)]
        ]
        if not rows:
            return set()
        result = await self._s.execute(
            pg_insert(_reminders).on_conflict_do_nothing().returning(_reminders.c.certificate_id, _reminders.c.status),
            rows,
        )
        return {row.certificate_id for row in result.all() if row.status == "sent"}

    async def reminders(self, certificate_id: uuid.UUID) -> dict[int, str]:
        rows = await self._s.execute(
            sa.select(_reminders.c.days_before, _reminders.c.status).where(
                _reminders.c.certificate_id == certificate_id
            )
        )
        return dict(rows.all())

    async def expiring(
        self, now: datetime, until: datetime, institution_id: uuid.UUID | None = None
    ) -> Sequence[sa.Row]:
        query = (
            sa.select(_certificates)
            .where(
                _certificates.c.superseded_at.is_(None),
                _certificates.c.renewal_recorded_at.is_(None),
                _certificates.c.not_after > now,
                _certificates.c.not_after <= until,
            )
            .order_by(_certificates.c.institution_id, _certificates.c.not_after)
        )
        if institution_id:
            query = query.where(_certificates.c.institution_id == institution_id)
        return (await self._s.execute(query)).all()

    async def institutions_expiring(self, now: datetime, until: datetime) -> set[uuid.UUID]:
        """Institutions with an active certificate expiring in (now, until]."""
        query = (
            sa.select(_certificates.c.institution_id)
            .distinct()
            .where(
                _certificates.c.superseded_at.is_(None),
                _certificates.c.renewal_recorded_at.is_(None),
                _certificates.c.not_after > now,
                _certificates.c.not_after <= until,
            )
        )
        return set((await self._s.execute(query)).scalars())

    async def by_serial(self, serial: str) -> sa.Row | None:
        return (await self._s.execute(sa.select(_certificates).where(_certificates.c.serial == serial))).first()


class DigestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def sent_in(self, period: str) -> set[uuid.UUID]:
        """Institutions whose digest for ``period`` is already recorded."""
        g = orm.officer_digests
        return set((await self._s.execute(sa.select(g.c.institution_id).where(g.c.period == period))).scalars())

    async def claim(self, institution_id: uuid.UUID, period: str, holders: int, now: datetime) -> bool:
        """True for the one caller that records this (institution, period); a concurrent replica
        waits on the key, then finds it taken."""
        g = orm.officer_digests
        result = await self._s.execute(
            pg_insert(g)
            .values(institution_id=institution_id, period=period, holders=holders, sent_at=now)
            .on_conflict_do_nothing()
            .returning(g.c.period)
        )
        return result.first() is not None

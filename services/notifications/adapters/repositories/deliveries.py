"""The delivery log and the worker's queue: recorded once per (event, channel, recipient), claimed
under a lease, finished with the attempt's outcome, re-queued by an operator, masked after its
retention period."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import Page, Repository
from services.notifications.adapters import orm
from services.notifications.domain.delivery import (
    RESENDABLE,
    Channel,
    DeliveryRecord,
    DeliveryStatus,
    NewDelivery,
    Outcome,
)


@dataclass(frozen=True, kw_only=True)
class DeliveryFilter:
    status: DeliveryStatus | None = None
    channel: str | None = None
    template: str | None = None
    application_id: uuid.UUID | None = None
    institution_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ClaimedDelivery:
    """A delivery this worker holds under a lease: what it needs to render and send it."""

    id: uuid.UUID
    channel: Channel
    recipient: str
    template: str
    locale: str
    context: dict[str, Any]  # non-secret template data
    sealed_secret: str | None  # opened only to send
    application_id: uuid.UUID | None
    attempts: int  # this one included: the key that finishing it is checked against


def _record(row: sa.Row[Any]) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        source_event_id=row.source_event_id,
        channel=Channel(row.channel),
        template=row.template,
        locale=row.locale,
        recipient=row.recipient,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        resends=row.resends,
        provider_ref=row.provider_ref,
        last_error=row.last_error,
        application_id=row.application_id,
        institution_id=row.institution_id,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        contact_masked_at=row.contact_masked_at,
    )


def _claimed(row: sa.Row[Any]) -> ClaimedDelivery:
    return ClaimedDelivery(
        id=row.id,
        channel=Channel(row.channel),
        recipient=row.recipient,
        template=row.template,
        locale=row.locale,
        context=row.context,
        sealed_secret=row.sealed_secret,
        application_id=row.application_id,
        attempts=row.attempts,
    )


class DeliveryRepository(Repository):
    async def enqueue(self, deliveries: Sequence[NewDelivery], now: datetime | None = None) -> int:
        """Records deliveries; one already recorded for the same (event, channel, recipient) is
        left alone, so a replayed event or a second replica adds nothing. Returns how many were new."""
        if not deliveries:
            return 0
        d = orm.deliveries
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
        result = await self.session.execute(
            pg_insert(d)
            .on_conflict_do_nothing(
                index_elements=[d.c.source_event_id, d.c.channel, d.c.recipient],
                index_where=d.c.contact_masked_at.is_(None),
            )
            .returning(d.c.id),
            rows,
        )
        return len(result.all())

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedDelivery]:
        """Takes up to ``limit`` due deliveries for this worker: each row goes to one worker
        (SKIP LOCKED), and pushing ``next_attempt_at`` by the lease keeps others off it after
        commit, until the lease runs out (a worker that died mid-send)."""
        d = orm.deliveries
        due = (
            sa.select(d.c.id)
            .where(d.c.status == DeliveryStatus.QUEUED.value, d.c.next_attempt_at <= now)
            .order_by(d.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        result = await self.session.execute(
            sa.update(d)
            .where(d.c.id.in_(sa.select(due.c.id)))
            .values(attempts=d.c.attempts + 1, next_attempt_at=now + lease, updated_at=now)
            .returning(*d.c)
        )
        return [_claimed(row) for row in result]

    async def release(self, claims: Sequence[tuple[uuid.UUID, int]], now: datetime) -> None:
        """Gives claimed deliveries back unattempted (their attempt is not counted)."""
        d = orm.deliveries
        for delivery_id, attempt in claims:
            await self.session.execute(
                sa.update(d)
                .where(d.c.id == delivery_id, d.c.attempts == attempt, d.c.status == DeliveryStatus.QUEUED.value)
                .values(attempts=d.c.attempts - 1, next_attempt_at=now, updated_at=now)
            )

    async def finish(self, delivery_id: uuid.UUID, *, attempt: int, outcome: Outcome, at: datetime) -> bool:
        """Records an attempt's outcome, unless the delivery moved on meanwhile (another worker
        took it after our lease ran out, or an operator re-queued it)."""
        d = orm.deliveries
        values: dict[str, Any] = {"status": outcome.status.value, "updated_at": at, "last_error": outcome.error}
        if outcome.status is DeliveryStatus.SENT:
            values.update(provider_ref=outcome.provider_ref, sent_at=at, last_error=None)
        if outcome.next_attempt_at is not None:
            values["next_attempt_at"] = outcome.next_attempt_at
        result = await self.session.execute(
            sa.update(d)
            .where(d.c.id == delivery_id, d.c.attempts == attempt, d.c.status == DeliveryStatus.QUEUED.value)
            .values(**values)
            .returning(d.c.id)
        )
        return result.first() is not None

    async def get(self, delivery_id: uuid.UUID) -> DeliveryRecord | None:
        d = orm.deliveries
        return await self._one_or_none(sa.select(d).where(d.c.id == delivery_id), _record)

    async def page(self, f: DeliveryFilter, *, offset: int, limit: int) -> Page[DeliveryRecord]:
        """Newest first."""
        d = orm.deliveries
        conditions = []
        if f.status:
            conditions.append(d.c.status == f.status.value)
        if f.channel:
            conditions.append(d.c.channel == f.channel)
        if f.template:
            conditions.append(d.c.template == f.template)
        if f.application_id:
            conditions.append(d.c.application_id == f.application_id)
        if f.institution_id:
            conditions.append(d.c.institution_id == f.institution_id)
        if f.since:
            conditions.append(d.c.created_at >= f.since)
        if f.until:
            conditions.append(d.c.created_at < f.until)
        query = sa.select(d).where(*conditions).order_by(d.c.created_at.desc(), d.c.id)
        return await self._page(query, _record, offset=offset, limit=limit)

    async def mask_old_contacts(self, created_before: datetime, limit: int, mask: Callable[[str], str]) -> int:
        """Finished deliveries (sent, failed, dead) created before ``created_before``: the
        recipient replaced by ``mask(recipient)``, the template data (names, tracking numbers)
        and any sealed secret removed (the error text was masked when stored). At most ``limit`` rows."""
        d = orm.deliveries
        due = (
            await self.session.execute(
                sa.select(d.c.id, d.c.recipient)
                .where(d.c.contact_masked_at.is_(None), d.c.status != DeliveryStatus.QUEUED.value)
                .where(d.c.created_at < created_before)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not due:
            return 0
        masked = sa.case({row.id: mask(row.recipient) for row in due}, value=d.c.id)
        await self.session.execute(
            sa.update(d)
            .where(d.c.id.in_([row.id for row in due]))
            .values(
                recipient=masked,
                context={},
                sealed_secret=None,
                contact_masked_at=sa.func.now(),
                updated_at=sa.func.now(),
            )
        )
        return len(due)

    async def forget_applications(
        self, application_ids: Sequence[uuid.UUID], mask: Callable[[str], str]
    ) -> tuple[int, int]:
        """The person of these applications was erased: deliveries still queued are cancelled,
        and every delivery not yet masked is masked as :meth:`mask_old_contacts` does (recipient
        masked, template data and sealed secret removed). Statuses, times and counts stay.
        Returns (cancelled, masked)."""
        d = orm.deliveries
        rows = (
            await self.session.execute(
                sa.select(d.c.id, d.c.recipient, d.c.status)
                .where(d.c.application_id.in_(application_ids), d.c.contact_masked_at.is_(None))
                .with_for_update()
            )
        ).all()
        if not rows:
            return 0, 0
        queued = DeliveryStatus.QUEUED.value
        await self.session.execute(
            sa.update(d)
            .where(d.c.id.in_([row.id for row in rows]))
            .values(
                recipient=sa.case({row.id: mask(row.recipient) for row in rows}, value=d.c.id),
                status=sa.case((d.c.status == queued, DeliveryStatus.CANCELLED.value), else_=d.c.status),
                context={},
                sealed_secret=None,
                contact_masked_at=sa.func.now(),
                updated_at=sa.func.now(),
            )
        )
        return sum(row.status == queued for row in rows), len(rows)

    async def requeue(self, delivery_id: uuid.UUID, now: datetime) -> DeliveryRecord | None:
        """Failed or dead -> queued with a fresh attempt count; None if it is neither."""
        d = orm.deliveries
        query = (
            sa.update(d)
            .where(d.c.id == delivery_id, d.c.status.in_([s.value for s in RESENDABLE]))
            .where(d.c.contact_masked_at.is_(None))  # its recipient is gone: nowhere to send it
            .values(
                status=DeliveryStatus.QUEUED.value,
                attempts=0,
                resends=d.c.resends + 1,
                next_attempt_at=now,
                updated_at=now,
                last_error=None,
            )
            .returning(*d.c)
        )
        row = (await self.session.execute(query)).first()
        return None if row is None else _record(row)

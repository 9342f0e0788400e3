"""Every query of the tracking service. Repositories translate rows <-> domain objects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters import orm
from services.tracking.domain.shipment import TERMINAL, Shipment, Status, normalise_tracking_number

_OPEN = [s.value for s in Status if s not in TERMINAL]


@dataclass(frozen=True)
class ShipmentFilter:
    statuses: Sequence[Status] | None = None
    carrier: str | None = None
    city: str | None = None
    since: datetime | None = None
    stuck: bool | None = None
    unregistered: bool | None = None
    application_id: uuid.UUID | None = None
    tracking_number: str | None = None


class ShipmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _from_row(row: sa.Row) -> Shipment:
        return Shipment(
            id=row.id,
            application_id=row.application_id,
            carrier=row.carrier,
            status=Status(row.status),
            status_at=row.status_at,
            tracking_number=row.tracking_number,
            handed_over_at=row.handed_over_at,
            stuck_flagged_at=row.stuck_flagged_at,
            attempt=row.attempt,
            previous_shipment_id=row.previous_shipment_id,
            carrier_name=row.carrier_name,
        )

    async def add_if_absent(self, values: dict[str, Any]) -> bool:
        """False if the application already has its first shipment (a redelivered or replayed event)."""
        t = orm.shipments
        stmt = (
            pg_insert(t)
            .values(**values, attempt=1)
            .on_conflict_do_nothing(constraint="uq_shipments_application_attempt")
            .returning(t.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def add_next_attempt(self, shipment: Shipment) -> bool:
        """Inserts ``shipment`` (made by ``Shipment.ship_again``) with the recipient, address and
        contents of the shipment it follows. False if that one was already shipped again."""
        t = orm.shipments
        previous = sa.select(
            sa.literal(shipment.id, UUID(as_uuid=True)),
            t.c.application_id,
            t.c.institution_id,
            t.c.holder_id,
            t.c.recipient_name,
            t.c.mobile,
            t.c.delivery_address,
            t.c.city,
            t.c.contents,
            sa.literal(shipment.carrier),
            sa.literal(shipment.carrier_name, sa.Text),
            sa.literal(Status.CREATED.value),
            sa.literal(shipment.attempt),
            t.c.id,
        ).where(t.c.id == shipment.previous_shipment_id)
        columns = [
            "id",
            "application_id",
            "institution_id",
            "holder_id",
            "recipient_name",
            "mobile",
            "delivery_address",
            "city",
            "contents",
            "carrier",
            "carrier_name",
            "status",
            "attempt",
            "previous_shipment_id",
        ]
        stmt = pg_insert(t).from_select(columns, previous).on_conflict_do_nothing().returning(t.c.id)
        return (await self.session.execute(stmt)).first() is not None

    async def next_attempt_of(self, shipment_id: uuid.UUID) -> uuid.UUID | None:
        t = orm.shipments
        return (
            await self.session.execute(sa.select(t.c.id).where(t.c.previous_shipment_id == shipment_id))
        ).scalar_one_or_none()

    async def get(self, shipment_id: uuid.UUID, *, for_update: bool = False) -> Shipment | None:
        stmt = sa.select(orm.shipments).where(orm.shipments.c.id == shipment_id)
        row = (await self.session.execute(stmt.with_for_update() if for_update else stmt)).first()
        return self._from_row(row) if row else None

    async def by_tracking_number(
        self, carrier: str, tracking_number: str, *, for_update: bool = False
    ) -> Shipment | None:
        t = orm.shipments
        stmt = sa.select(t).where(t.c.carrier == carrier, t.c.tracking_number == tracking_number)
        row = (await self.session.execute(stmt.with_for_update() if for_update else stmt)).first()
        return self._from_row(row) if row else None

    async def save(self, shipment: Shipment) -> None:
        t = orm.shipments
        await self.session.execute(
            sa.update(t)
            .where(t.c.id == shipment.id)
            .values(
                status=shipment.status.value,
                status_at=shipment.status_at,
                handed_over_at=shipment.handed_over_at,
                stuck_flagged_at=shipment.stuck_flagged_at,
                updated_at=sa.func.now(),
            )
        )
        if shipment.new_timeline:
            await self.session.execute(
                sa.insert(orm.shipment_timeline),
                [
                    {
                        "shipment_id": shipment.id,
                        "status": e.status.value,
                        "occurred_at": e.occurred_at,
                        "location": e.location,
                    }
                    for e in shipment.new_timeline
                ],
            )
            shipment.new_timeline.clear()

    # ------------------------------------------------------------ registration with the carrier

    async def lease_unregistered(self, carrier: str, now: datetime, lease: timedelta, limit: int) -> Sequence[sa.Row]:
        """Shipments waiting for ``carrier``'s tracking number, leased to this worker alone: other
        replicas skip locked rows and unexpired leases; a crashed worker's lease simply runs out."""
        t = orm.shipments
        due = (
            sa.select(t.c.id)
            .where(
                t.c.carrier == carrier,
                t.c.tracking_number.is_(None),
                t.c.next_attempt_at <= now,
                sa.or_(t.c.lease_until.is_(None), t.c.lease_until < now),
            )
            .order_by(t.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(t)
            .where(t.c.id.in_(due.scalar_subquery()))
            .values(lease_until=now + lease, registration_attempts=t.c.registration_attempts + 1)
            .returning(t)
        )
        return (await self.session.execute(stmt)).all()

    async def record_registration(self, shipment_id: uuid.UUID, tracking_number: str, now: datetime) -> bool:
        t = orm.shipments
        result = await self.session.execute(
            sa.update(t)
            .where(t.c.id == shipment_id, t.c.tracking_number.is_(None))
            .values(
                tracking_number=tracking_number,
                registered_at=now,
                lease_until=None,
                last_error=None,
                updated_at=sa.func.now(),
            )
            .returning(t.c.id)
        )
        if result.first() is None:
            return False
        await self.session.execute(
            sa.insert(orm.shipment_timeline).values(
                shipment_id=shipment_id, status=Status.CREATED.value, occurred_at=now
            )
        )
        return True

    async def record_registration_failure(self, shipment_id: uuid.UUID, error: str, retry_at: datetime) -> None:
        t = orm.shipments
        await self.session.execute(
            sa.update(t)
            .where(t.c.id == shipment_id)
            .values(lease_until=None, last_error=error[:500], next_attempt_at=retry_at, updated_at=sa.func.now())
        )

    # ------------------------------------------------------------ workers

    async def lock_overdue(self, handed_over_before: datetime, limit: int) -> list[Shipment]:
        t = orm.shipments
        rows = (
            await self.session.execute(
                sa.select(t)
                .where(t.c.handed_over_at < handed_over_before, t.c.stuck_flagged_at.is_(None), t.c.status.in_(_OPEN))
                .order_by(t.c.handed_over_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        return [self._from_row(r) for r in rows]

    async def lock_simulated_due(self, carrier: str, unchanged_since: datetime, limit: int) -> list[Shipment]:
        t = orm.shipments
        rows = (
            await self.session.execute(
                sa.select(t)
                .where(
                    t.c.carrier == carrier,
                    t.c.tracking_number.is_not(None),
                    t.c.status.in_(_OPEN),
                    t.c.updated_at <= unchanged_since,
                )
                .order_by(t.c.updated_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        return [self._from_row(r) for r in rows]

    # ------------------------------------------------------------ views

    async def erase_delivered_recipients(self, delivered_before: datetime, limit: int) -> int:
        """Sets the recipient's name, mobile and address to null on shipments delivered before
        ``delivered_before`` (at most ``limit``); the status, city and timeline stay."""
        t = orm.shipments
        due = (
            sa.select(t.c.id)
            .where(t.c.status == Status.DELIVERED.value, t.c.recipient_erased_at.is_(None))
            .where(t.c.status_at < delivered_before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(t)
            .where(t.c.id.in_(due.scalar_subquery()))
            .values(
                recipient_name=None,
                mobile=None,
                delivery_address=None,
                recipient_erased_at=sa.func.now(),
                updated_at=sa.func.now(),
            )
        )
        return (await self.session.execute(stmt)).rowcount or 0  # type: ignore[attr-defined]

    async def public_lookup(self, tracking_number: str) -> sa.Row | None:
        t = orm.shipments
        return (
            await self.session.execute(
                sa.select(t.c.id, t.c.mobile, t.c.city, t.c.status).where(t.c.tracking_number == tracking_number)
            )
        ).first()

    async def timeline(self, shipment_id: uuid.UUID) -> Sequence[sa.Row]:
        tl = orm.shipment_timeline
        return (
            await self.session.execute(
                sa.select(tl.c.status, tl.c.occurred_at, tl.c.location)
                .where(tl.c.shipment_id == shipment_id)
                .order_by(tl.c.id)
            )
        ).all()  # the order the steps were applied in (forward only)

    async def row(self, shipment_id: uuid.UUID) -> sa.Row | None:
        return (await self.session.execute(sa.select(orm.shipments).where(orm.shipments.c.id == shipment_id))).first()

    async def list(self, f: ShipmentFilter, limit: int, offset: int) -> tuple[int, Sequence[sa.Row]]:
        t = orm.shipments
        where: list[Any] = []
        if f.statuses:
            where.append(t.c.status.in_([s.value for s in f.statuses]))
        if f.carrier:
            where.append(t.c.carrier == f.carrier)
        if f.city:
            where.append(sa.func.lower(t.c.city) == f.city.lower())
        if f.since:
            where.append(t.c.created_at >= f.since)
        if f.stuck is not None:
            where.append(t.c.stuck_flagged_at.is_not(None) if f.stuck else t.c.stuck_flagged_at.is_(None))
        if f.application_id:
            where.append(t.c.application_id == f.application_id)
        if f.tracking_number:
            where.append(t.c.tracking_number == normalise_tracking_number(f.tracking_number))
        if f.unregistered is not None:
            where.append(t.c.tracking_number.is_(None) if f.unregistered else t.c.tracking_number.is_not(None))
        total = (await self.session.execute(sa.select(sa.func.count()).select_from(t).where(*where))).scalar_one()
        rows = (
            await self.session.execute(
                sa.select(t).where(*where).order_by(t.c.created_at.desc(), t.c.id).limit(limit).offset(offset)
            )
        ).all()
        return total, rows


class CarrierEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, Any]) -> bool:
        """False when the carrier sent this event before (same carrier event id)."""
        t = orm.carrier_events
        stmt = (
            pg_insert(t)
            .values(**values)
            .on_conflict_do_nothing(constraint="uq_carrier_events_carrier_event")
            .returning(t.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def set_outcome(self, event_id: uuid.UUID, shipment_id: uuid.UUID | None, outcome: str) -> None:
        t = orm.carrier_events
        await self.session.execute(
            sa.update(t).where(t.c.id == event_id).values(shipment_id=shipment_id, outcome=outcome)
        )

    async def waiting_for(self, carrier: str, tracking_number: str) -> Sequence[sa.Row]:
        """Updates that arrived before we knew the tracking number, oldest first."""
        t = orm.carrier_events
        return (
            await self.session.execute(
                sa.select(t)
                .where(
                    t.c.carrier == carrier,
                    t.c.tracking_number == tracking_number,
                    t.c.shipment_id.is_(None),
                    t.c.status.is_not(None),
                )
                .order_by(t.c.occurred_at, t.c.received_at)
                .with_for_update()
            )
        ).all()

    async def orphaned_shipment_ids(self, carrier: str, limit: int = 100) -> list[uuid.UUID]:
        """Shipments that now have the tracking number of reports kept as unknown_shipment (a report
        that committed just after the registration looked for it)."""
        t, s = orm.carrier_events, orm.shipments
        return list(
            (
                await self.session.execute(
                    sa.select(s.c.id)
                    .distinct()
                    .join(t, sa.and_(t.c.carrier == s.c.carrier, t.c.tracking_number == s.c.tracking_number))
                    .where(s.c.carrier == carrier, t.c.shipment_id.is_(None), t.c.status.is_not(None))
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )

    async def for_shipment(self, shipment_id: uuid.UUID) -> Sequence[sa.Row]:
        t = orm.carrier_events
        return (
            await self.session.execute(
                sa.select(t).where(t.c.shipment_id == shipment_id).order_by(t.c.received_at, t.c.occurred_at)
            )
        ).all()


class WebhookReceiptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, digest: str, now: datetime) -> bool:
        """False when this exact signed call was accepted before: a replay."""
        t = orm.webhook_receipts
        stmt = pg_insert(t).values(digest=digest, received_at=now).on_conflict_do_nothing().returning(t.c.digest)
        return (await self.session.execute(stmt)).first() is not None

    async def purge(self, received_before: datetime) -> int:
        t = orm.webhook_receipts
        return (await self.session.execute(sa.delete(t).where(t.c.received_at < received_before))).rowcount or 0  # type: ignore[attr-defined]

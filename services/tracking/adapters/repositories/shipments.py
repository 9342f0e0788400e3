"""Shipments: the aggregate (registered with the unit of work for its events), the registration
worker's leases, the workers' batches, and the operators' and the public's views."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import AggregateRepository, Page, ReadQuery
from services.tracking.adapters import orm
from services.tracking.domain.carrier import Parcel
from services.tracking.domain.shipment import (
    TERMINAL,
    Consignment,
    Shipment,
    Status,
    TimelineEntry,
    normalise_tracking_number,
)

_OPEN = [s.value for s in Status if s not in TERMINAL]


@dataclass(frozen=True, kw_only=True)
class ShipmentFilter:
    statuses: Sequence[Status] | None = None
    carrier: str | None = None
    city: str | None = None
    since: datetime | None = None
    stuck: bool | None = None
    unregistered: bool | None = None
    application_id: uuid.UUID | None = None
    tracking_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class ShipmentRecord:
    """A shipment as the operators see it: the aggregate's state, the consignment (recipient data
    ``None`` once erased) and the registration's progress."""

    id: uuid.UUID
    application_id: uuid.UUID
    institution_id: uuid.UUID
    holder_id: uuid.UUID
    carrier: str
    carrier_name: str | None
    attempt: int
    previous_shipment_id: uuid.UUID | None
    tracking_number: str | None
    status: Status
    status_at: datetime | None
    recipient_name: str | None
    mobile: str | None
    delivery_address: dict[str, Any] | None
    recipient_erased_at: datetime | None
    city: str
    contents: dict[str, Any]
    handed_over_at: datetime | None
    stuck_flagged_at: datetime | None
    registration_attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class LeasedRegistration:
    """A shipment leased to this worker for registration with the carrier."""

    parcel: Parcel
    attempts: int  # this one included


@dataclass(frozen=True, kw_only=True)
class PublicLookup:
    """What the public query compares and shows: no name, no address."""

    shipment_id: uuid.UUID
    mobile: str | None  # None once erased after delivery
    city: str
    status: Status
    timeline: list[TimelineEntry]  # read with the rest, whether or not the digits will match


def _shipment(row: sa.Row[Any]) -> Shipment:
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


def _record(row: sa.Row[Any]) -> ShipmentRecord:
    return ShipmentRecord(
        id=row.id,
        application_id=row.application_id,
        institution_id=row.institution_id,
        holder_id=row.holder_id,
        carrier=row.carrier,
        carrier_name=row.carrier_name,
        attempt=row.attempt,
        previous_shipment_id=row.previous_shipment_id,
        tracking_number=row.tracking_number,
        status=Status(row.status),
        status_at=row.status_at,
        recipient_name=row.recipient_name,
        mobile=row.mobile,
        delivery_address=row.delivery_address,
        recipient_erased_at=row.recipient_erased_at,
        city=row.city,
        contents=row.contents,
        handed_over_at=row.handed_over_at,
        stuck_flagged_at=row.stuck_flagged_at,
        registration_attempts=row.registration_attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
    )


def _leased(row: sa.Row[Any]) -> LeasedRegistration:
    parcel = Parcel(
        shipment_id=row.id,
        recipient_name=row.recipient_name,
        mobile=row.mobile,
        delivery_address=row.delivery_address,
        contents=row.contents,
    )
    return LeasedRegistration(parcel=parcel, attempts=row.registration_attempts)


# The public query's read: the shipment and its steps in one round trip (anyone may ask, so it is
# the service's hottest path). One row per step, the shipment's columns repeated.
_PUBLIC_LOOKUP = ReadQuery(
    sa.select(
        orm.shipments.c.id,
        orm.shipments.c.mobile,
        orm.shipments.c.city,
        orm.shipments.c.status,
        orm.shipment_timeline.c.status.label("step_status"),
        orm.shipment_timeline.c.occurred_at.label("step_occurred_at"),
        orm.shipment_timeline.c.location.label("step_location"),
    )
    .outerjoin(orm.shipment_timeline, orm.shipment_timeline.c.shipment_id == orm.shipments.c.id)
    .where(orm.shipments.c.tracking_number == sa.bindparam("tracking_number"))
    .order_by(orm.shipment_timeline.c.id)
)
# The operators' view of a shipment's steps.
_TIMELINE = ReadQuery(
    sa.select(orm.shipment_timeline.c.status, orm.shipment_timeline.c.occurred_at, orm.shipment_timeline.c.location)
    .where(orm.shipment_timeline.c.shipment_id == sa.bindparam("shipment_id"))
    .order_by(orm.shipment_timeline.c.id)
)


class ShipmentRepository(AggregateRepository):
    """Every shipment it loads or adds is registered, so the unit of work publishes its events."""

    def _loaded(self, row: sa.Row[Any]) -> Shipment:
        return self._register(_shipment(row))

    async def add_first(self, shipment: Shipment, consignment: Consignment) -> bool:
        """False if the application already has its first shipment (a redelivered or replayed event)."""
        t = orm.shipments
        stmt = (
            pg_insert(t)
            .values(
                id=shipment.id,
                application_id=shipment.application_id,
                institution_id=consignment.institution_id,
                holder_id=consignment.holder_id,
                recipient_name=consignment.recipient_name,
                mobile=consignment.mobile,
                delivery_address=consignment.delivery_address,
                city=consignment.city,
                contents=consignment.contents,
                carrier=shipment.carrier,
                carrier_name=shipment.carrier_name,
                status=shipment.status.value,
                attempt=1,
            )
            .on_conflict_do_nothing(constraint="uq_shipments_application_attempt")
            .returning(t.c.id)
        )
        if (await self.session.execute(stmt)).first() is None:
            return False
        self._register(shipment)
        return True

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
        if (await self.session.execute(stmt)).first() is None:
            return False
        self._register(shipment)
        return True

    async def next_attempt_of(self, shipment_id: uuid.UUID) -> uuid.UUID | None:
        t = orm.shipments
        query = sa.select(t.c.id).where(t.c.previous_shipment_id == shipment_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get(self, shipment_id: uuid.UUID, *, for_update: bool = False) -> Shipment | None:
        query = sa.select(orm.shipments).where(orm.shipments.c.id == shipment_id)
        return await self._one_or_none(query.with_for_update() if for_update else query, self._loaded)

    async def by_tracking_number(
        self, carrier: str, tracking_number: str, *, for_update: bool = False
    ) -> Shipment | None:
        t = orm.shipments
        query = sa.select(t).where(t.c.carrier == carrier, t.c.tracking_number == tracking_number)
        return await self._one_or_none(query.with_for_update() if for_update else query, self._loaded)

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

    async def lease_unregistered(
        self, carrier: str, *, now: datetime, lease: timedelta, limit: int
    ) -> list[LeasedRegistration]:
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
        return [_leased(row) for row in await self.session.execute(stmt)]

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
        rows = await self.session.execute(
            sa.select(t)
            .where(t.c.handed_over_at < handed_over_before, t.c.stuck_flagged_at.is_(None), t.c.status.in_(_OPEN))
            .order_by(t.c.handed_over_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._loaded(row) for row in rows]

    async def lock_simulated_due(self, carrier: str, unchanged_since: datetime, limit: int) -> list[Shipment]:
        t = orm.shipments
        rows = await self.session.execute(
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
        return [self._loaded(row) for row in rows]

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

    # ------------------------------------------------------------ views

    async def public_lookup(self, tracking_number: str) -> PublicLookup | None:
        rows = await _PUBLIC_LOOKUP.rows(self.session, {"tracking_number": tracking_number})
        if not rows:
            return None
        first = rows[0]
        return PublicLookup(
            shipment_id=first.id,
            mobile=first.mobile,
            city=first.city,
            status=Status(first.status),
            timeline=[
                TimelineEntry(Status(row.step_status), row.step_occurred_at, row.step_location)
                for row in rows
                if row.step_status is not None  # the outer join's row of a shipment with no step yet
            ],
        )

    async def timeline(self, shipment_id: uuid.UUID) -> list[TimelineEntry]:
        """The steps in the order they were applied (forward only)."""
        rows = await _TIMELINE.rows(self.session, {"shipment_id": shipment_id})
        return [TimelineEntry(Status(row.status), row.occurred_at, row.location) for row in rows]

    async def record(self, shipment_id: uuid.UUID) -> ShipmentRecord | None:
        return await self._one_or_none(sa.select(orm.shipments).where(orm.shipments.c.id == shipment_id), _record)

    async def page(self, f: ShipmentFilter, *, offset: int, limit: int) -> Page[ShipmentRecord]:
        """Newest first."""
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
        query = sa.select(t).where(*where).order_by(t.c.created_at.desc(), t.c.id)
        return await self._page(query, _record, offset=offset, limit=limit)

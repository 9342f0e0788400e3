"""The carriers' status reports, kept verbatim with what became of each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.repository import Repository
from services.tracking.adapters import orm
from services.tracking.domain.shipment import Status


@dataclass(frozen=True, kw_only=True)
class CarrierEventRecord:
    id: uuid.UUID
    carrier: str
    carrier_event_id: str
    tracking_number: str
    shipment_id: uuid.UUID | None  # None while the tracking number is not known yet
    raw: dict[str, Any]  # the carrier's report, verbatim
    carrier_status: str
    status: Status | None  # normalised; None when the carrier's word is unknown
    occurred_at: datetime
    outcome: str
    received_at: datetime


def _record(row: sa.Row[Any]) -> CarrierEventRecord:
    return CarrierEventRecord(
        id=row.id,
        carrier=row.carrier,
        carrier_event_id=row.carrier_event_id,
        tracking_number=row.tracking_number,
        shipment_id=row.shipment_id,
        raw=row.raw,
        carrier_status=row.carrier_status,
        status=Status(row.status) if row.status else None,
        occurred_at=row.occurred_at,
        outcome=row.outcome,
        received_at=row.received_at,
    )


class CarrierEventRepository(Repository):
    async def add(self, event: CarrierEventRecord) -> bool:
        """False when the carrier sent this event before (same carrier event id)."""
        t = orm.carrier_events
        stmt = (
            pg_insert(t)
            .values(
                id=event.id,
                carrier=event.carrier,
                carrier_event_id=event.carrier_event_id,
                tracking_number=event.tracking_number,
                shipment_id=event.shipment_id,
                raw=event.raw,
                carrier_status=event.carrier_status,
                status=event.status.value if event.status else None,
                occurred_at=event.occurred_at,
                outcome=event.outcome,
                received_at=event.received_at,
            )
            .on_conflict_do_nothing(constraint="uq_carrier_events_carrier_event")
            .returning(t.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def set_outcome(self, event_id: uuid.UUID, shipment_id: uuid.UUID | None, outcome: str) -> None:
        t = orm.carrier_events
        await self.session.execute(
            sa.update(t).where(t.c.id == event_id).values(shipment_id=shipment_id, outcome=outcome)
        )

    async def waiting_for(self, carrier: str, tracking_number: str) -> list[CarrierEventRecord]:
        """Updates that arrived before we knew the tracking number, oldest first (locked)."""
        t = orm.carrier_events
        rows = await self.session.execute(
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
        return [_record(row) for row in rows]

    async def orphaned_shipment_ids(self, carrier: str, limit: int = 100) -> list[uuid.UUID]:
        """Shipments that now have the tracking number of reports kept as unknown_shipment (a report
        that committed just after the registration looked for it)."""
        t, s = orm.carrier_events, orm.shipments
        query = (
            sa.select(s.c.id)
            .distinct()
            .join(t, sa.and_(t.c.carrier == s.c.carrier, t.c.tracking_number == s.c.tracking_number))
            .where(s.c.carrier == carrier, t.c.shipment_id.is_(None), t.c.status.is_not(None))
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def for_shipment(self, shipment_id: uuid.UUID) -> list[CarrierEventRecord]:
        t = orm.carrier_events
        rows = await self.session.execute(
            sa.select(t).where(t.c.shipment_id == shipment_id).order_by(t.c.received_at, t.c.occurred_at)
        )
        return [_record(row) for row in rows]

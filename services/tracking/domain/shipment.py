"""The shipment aggregate and its state machine.

Plain Python. A carrier reports statuses in its own words, late, twice, or out of order; the
shipment only moves forward: an update older than the last applied one changes nothing, delivered
and returned are final, and the only way "back" is the courier's next attempt after a failed one
(delivery_failed -> in_transit / out_for_delivery), which is forward in time.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any


class Status(enum.StrEnum):
    CREATED = "created"
    HANDED_TO_COURIER = "handed_to_courier"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED = "returned"  # to sender


def normalise_tracking_number(raw: str) -> str:
    """One spelling of a tracking number, whoever wrote it (the carrier's API, its webhooks, a
    person on the query page who typed spaces): no spaces, upper case."""
    return raw.strip().replace(" ", "").upper()


TERMINAL = frozenset({Status.DELIVERED, Status.RETURNED})
# Where a *newer* update may take the shipment. Anything else is a duplicate or a step back.
FORWARD: dict[Status, frozenset[Status]] = {
    Status.CREATED: frozenset(
        {
            Status.HANDED_TO_COURIER,
            Status.IN_TRANSIT,
            Status.OUT_FOR_DELIVERY,
            Status.DELIVERY_FAILED,
            Status.DELIVERED,
            Status.RETURNED,
        }
    ),
    Status.HANDED_TO_COURIER: frozenset(
        {Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.DELIVERY_FAILED, Status.DELIVERED, Status.RETURNED}
    ),
    Status.IN_TRANSIT: frozenset({Status.OUT_FOR_DELIVERY, Status.DELIVERY_FAILED, Status.DELIVERED, Status.RETURNED}),
    Status.OUT_FOR_DELIVERY: frozenset({Status.DELIVERY_FAILED, Status.DELIVERED, Status.RETURNED}),
    # A failed attempt: back to the depot and out again is the next attempt, not a step back.
    Status.DELIVERY_FAILED: frozenset({Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.DELIVERED, Status.RETURNED}),
    Status.DELIVERED: frozenset(),
    Status.RETURNED: frozenset(),
}
# Statuses that prove the parcel is with the courier: reaching one of them first implies hand-over.
WITH_COURIER = frozenset({Status.HANDED_TO_COURIER, Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY})


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # older than the last applied update
    NOT_FORWARD = "not_forward"  # same status again, a step back, or after a final status


@dataclass(frozen=True)
class CarrierUpdate:
    """One carrier event, already normalised."""

    status: Status
    occurred_at: datetime
    _: KW_ONLY
    reason: str | None = None
    location: str | None = None


@dataclass(frozen=True, kw_only=True)
class ShipmentRef:
    """Which shipment a domain event is about, with what its contract event names (the unit of
    work maps the event on its own, without the aggregate that raised it)."""

    shipment_id: uuid.UUID
    application_id: uuid.UUID
    carrier: str
    carrier_name: str | None
    tracking_number: str | None


@dataclass(frozen=True)
class StatusChanged:
    """Domain event: the shipment reached ``status`` (``implied`` when deduced, e.g. a hand-over
    the carrier never reported separately)."""

    shipment: ShipmentRef
    status: Status
    occurred_at: datetime
    _: KW_ONLY
    reason: str | None = None
    implied: bool = False


@dataclass(frozen=True, kw_only=True)
class FlaggedStuck:
    """Domain event: handed over, and neither delivered nor returned within ``working_days``."""

    shipment: ShipmentRef
    flagged_at: datetime
    handed_over_at: datetime
    working_days: int
    last_status: Status


@dataclass(frozen=True, kw_only=True)
class ShippedAgain:
    """Domain event: a returned parcel goes out again as this new shipment."""

    shipment: ShipmentRef
    previous_shipment_id: uuid.UUID
    attempt: int
    occurred_at: datetime


ShipmentEvent = StatusChanged | FlaggedStuck | ShippedAgain


@dataclass(frozen=True, kw_only=True)
class Consignment:
    """What a new shipment carries and to whom (from the produced certificate); the recipient's
    part is personal data, removed a while after delivery."""

    institution_id: uuid.UUID
    holder_id: uuid.UUID
    recipient_name: str
    mobile: str
    delivery_address: dict[str, Any]
    city: str
    contents: dict[str, Any]


@dataclass(frozen=True)
class TimelineEntry:
    status: Status
    occurred_at: datetime
    location: str | None = None


@dataclass(kw_only=True)
class Shipment:
    id: uuid.UUID
    application_id: uuid.UUID
    carrier: str
    status: Status = Status.CREATED
    status_at: datetime | None = None  # carrier time of the last applied update
    tracking_number: str | None = None
    handed_over_at: datetime | None = None
    stuck_flagged_at: datetime | None = None
    attempt: int = 1
    previous_shipment_id: uuid.UUID | None = None
    carrier_name: str | None = None  # what the holder is told; None in shipments made before it existed
    new_timeline: list[TimelineEntry] = field(default_factory=list)
    _events: list[ShipmentEvent] = field(default_factory=list)

    @property
    def is_final(self) -> bool:
        return self.status in TERMINAL

    @property
    def ref(self) -> ShipmentRef:
        return ShipmentRef(
            shipment_id=self.id,
            application_id=self.application_id,
            carrier=self.carrier,
            carrier_name=self.carrier_name,
            tracking_number=self.tracking_number,
        )

    def apply(self, update: CarrierUpdate) -> Outcome:
        if self.status_at is not None and update.occurred_at < self.status_at:
            return Outcome.STALE
        if update.status not in FORWARD[self.status]:
            return Outcome.NOT_FORWARD
        if self.handed_over_at is None:
            self.handed_over_at = update.occurred_at
            if update.status in WITH_COURIER and update.status is not Status.HANDED_TO_COURIER:
                # The holder is told the parcel is on its way even if the carrier skipped that step.
                self._events.append(StatusChanged(self.ref, Status.HANDED_TO_COURIER, update.occurred_at, implied=True))
        self.status = update.status
        self.status_at = update.occurred_at
        self.new_timeline.append(TimelineEntry(update.status, update.occurred_at, update.location))
        self._events.append(StatusChanged(self.ref, update.status, update.occurred_at, reason=update.reason))
        return Outcome.APPLIED

    @property
    def can_ship_again(self) -> bool:
        # Only a parcel back with the sender: a delivered one is the holder's, an open one is on its way.
        return self.status is Status.RETURNED

    def flag_stuck(self, at: datetime, *, working_days: int) -> None:
        """Flags the shipment once; the operators and the holder's officer hear of it."""
        if self.handed_over_at is None or self.stuck_flagged_at is not None or self.is_final:
            raise ValueError("only an open shipment with the courier, not flagged yet, can be flagged as stuck")
        self.stuck_flagged_at = at
        self._events.append(
            FlaggedStuck(
                shipment=self.ref,
                flagged_at=at,
                handed_over_at=self.handed_over_at,
                working_days=working_days,
                last_status=self.status,
            )
        )

    def ship_again(self, new_id: uuid.UUID, *, carrier: str, carrier_name: str | None, at: datetime) -> Shipment:
        """The next attempt: a new shipment (its own id, so its own idempotency key at the carrier)
        to the same recipient, with the carrier configured now."""
        if not self.can_ship_again:
            raise ValueError(f"a {self.status.value} shipment cannot be shipped again")
        again = Shipment(
            id=new_id,
            application_id=self.application_id,
            carrier=carrier,
            carrier_name=carrier_name,
            attempt=self.attempt + 1,
            previous_shipment_id=self.id,
        )
        again._events.append(
            ShippedAgain(shipment=again.ref, previous_shipment_id=self.id, attempt=again.attempt, occurred_at=at)
        )
        return again

    def pull_events(self) -> list[ShipmentEvent]:
        events, self._events = self._events, []
        return events

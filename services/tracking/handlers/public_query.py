"""The public shipment query ("Gönderi Sorgulama"): tracking number + last four digits of the
recipient's mobile -> status timeline and destination city.

A wrong second factor and an unknown tracking number give the same answer, and cost the same
work: the typed digits are always compared (in constant time) against something, a real number's
digits or a placeholder no one can type; a known number's steps are read with it, whether or not
the digits match.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.domain.shipment import Status, normalise_tracking_number

_PLACEHOLDER_DIGITS = "----"  # never matches: the endpoint accepts four digits only


@dataclass(frozen=True)
class PublicStep:
    status: Status
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True)
class PublicShipmentView:
    tracking_number: str
    status: Status
    destination_city: str
    timeline: list[PublicStep]


async def query_shipment(uow: TrackingUnitOfWork, tracking_number: str, mobile_last4: str) -> PublicShipmentView | None:
    number = normalise_tracking_number(tracking_number)
    found = await uow.shipments.public_lookup(number)
    # A delivered shipment whose recipient data was removed (retention) has no mobile to match.
    expected = found.mobile[-4:] if found is not None and found.mobile else _PLACEHOLDER_DIGITS
    matches = hmac.compare_digest(expected.encode(), mobile_last4.encode())
    if found is None or not matches:
        return None
    steps = [PublicStep(step.status, step.occurred_at) for step in found.timeline]
    return PublicShipmentView(tracking_number=number, status=found.status, destination_city=found.city, timeline=steps)

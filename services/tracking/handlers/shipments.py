"""A produced certificate becomes a shipment; a worker registers it with the carrier.

The consumer only writes the row (no network call inside its transaction); registration happens
afterwards, under a lease, with the shipment id as the carrier's idempotency key, so a crash
between the carrier's answer and our commit registers the same parcel again, not a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from esign.auth import Principal
from esign.clock import Clock
from esign.events import CertificateProduced, EventMeta
from esign.problems import NotFound
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.domain.carrier import Carrier, CarrierError
from services.tracking.domain.shipment import Consignment, Shipment, normalise_tracking_number
from services.tracking.handlers.carrier_events import adopt_waiting_reports
from services.tracking.handlers.errors import AlreadyShippedAgain, NotReturned

log = structlog.get_logger("tracking.shipments")


async def on_certificate_produced(
    event: CertificateProduced,
    uow: TrackingUnitOfWork,
    *,
    meta: EventMeta,
    carrier: str,
    carrier_name: str,
    wake_registrar: Callable[[], None] | None = None,
) -> None:
    address = event.delivery_address.model_dump(exclude_none=True)
    created = await uow.shipments.add_first(
        Shipment(id=uuid.uuid4(), application_id=event.application_id, carrier=carrier, carrier_name=carrier_name),
        Consignment(
            institution_id=event.institution_id,
            holder_id=event.holder_id,
            recipient_name=f"{event.first_name} {event.last_name}",
            mobile=event.mobile,
            delivery_address=address,
            city=event.delivery_address.city,
            contents={"card_type": event.card_type, "card_reader_type": event.card_reader_type},
        ),
    )
    if not created:
        log.info("shipment_exists", application_id=str(event.application_id))
        return
    log.info("shipment_created", application_id=str(event.application_id), carrier=carrier)
    if wake_registrar:
        uow.after_commit(wake_registrar)


@dataclass(frozen=True, kw_only=True)
class ShipAgain:
    shipment_id: uuid.UUID  # the returned one
    carrier: str  # the carrier configured now
    carrier_name: str


async def ship_again(
    command: ShipAgain,
    uow: TrackingUnitOfWork,
    *,
    principal: Principal,
    clock: Clock,
    wake_registrar: Callable[[], None] | None = None,
) -> Shipment:
    """An operator ships a returned parcel again: a new shipment with its own id (so its own
    idempotency key at the carrier), registered by the worker like the first, and the holder is
    told (``tracking.shipment.reshipped``). Once per returned shipment: a second call is a 409."""
    returned = await uow.shipments.get(command.shipment_id, for_update=True)
    if returned is None:
        raise NotFound("shipment")
    if (successor := await uow.shipments.next_attempt_of(returned.id)) is not None:
        raise AlreadyShippedAgain("This returned shipment was already shipped again.", next_shipment_id=str(successor))
    if not returned.can_ship_again:
        raise NotReturned(
            f"The shipment is {returned.status.value}; only a parcel returned to the sender can be shipped again."
        )
    again = returned.ship_again(
        uuid.uuid4(), carrier=command.carrier, carrier_name=command.carrier_name, at=clock.now()
    )
    # The row lock on the returned shipment serialises two operators; the unique
    # previous_shipment_id is the backstop.
    if not await uow.shipments.add_next_attempt(again):
        raise AlreadyShippedAgain("This returned shipment was already shipped again.")
    log.info(
        "shipment_reshipped",
        shipment_id=str(again.id),
        previous=str(returned.id),
        attempt=again.attempt,
        by=principal.subject,
    )
    if wake_registrar:
        uow.after_commit(wake_registrar)
    return again


@dataclass(frozen=True, kw_only=True)
class RegistrationPolicy:
    lease: timedelta = timedelta(seconds=60)
    batch: int = 20
    first_retry: timedelta = timedelta(seconds=5)
    max_retry: timedelta = timedelta(hours=1)

    def retry_after(self, attempts: int, retryable: bool) -> timedelta:
        if not retryable:
            return self.max_retry  # an operator should look; try again now and then in case it was fixed
        return min(self.first_retry * 2 ** max(attempts - 1, 0), self.max_retry)


async def register_due(
    uow_factory: Callable[[], TrackingUnitOfWork], *, carrier: Carrier, policy: RegistrationPolicy, clock: Clock
) -> int:
    """Registers leased shipments with the carrier; returns how many were leased."""
    now = clock.now()
    async with uow_factory() as uow:
        leased = await uow.shipments.lease_unregistered(carrier.name, now=now, lease=policy.lease, limit=policy.batch)
        await uow.commit()
    for lease in leased:
        shipment_id = lease.parcel.shipment_id
        try:
            tracking_number = normalise_tracking_number(await carrier.register(lease.parcel))
        except CarrierError as exc:
            retry = policy.retry_after(lease.attempts, exc.retryable)
            log.warning(
                "carrier_registration_failed",
                shipment_id=str(shipment_id),
                error=str(exc),
                attempts=lease.attempts,
                retry_in_seconds=int(retry.total_seconds()),
            )
            async with uow_factory() as uow:
                await uow.shipments.record_registration_failure(shipment_id, str(exc), now + retry)
                await uow.commit()
            continue
        async with uow_factory() as uow:
            if await uow.shipments.record_registration(shipment_id, tracking_number, now):
                shipment = await uow.shipments.get(shipment_id, for_update=True)
                assert shipment is not None
                await adopt_waiting_reports(uow, shipment)
            await uow.commit()
        log.info("carrier_registered", shipment_id=str(shipment_id), carrier=carrier.name)
    return len(leased)

"""The tracking service's consumers: what it takes from the applications service's stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from esign.consumer import ConsumerSpec, Takes
from esign.events import CertificateProduced, EventMeta
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.handlers.shipments import on_certificate_produced

if TYPE_CHECKING:
    from services.tracking.app import Workers

CERTIFICATES_CONSUMER = "tracking-certificates"


def consumer_specs(workers: Workers) -> list[ConsumerSpec]:
    """A produced certificate becomes a shipment for the configured carrier; the registrar is
    woken once it is committed."""

    async def certificate_produced(event: CertificateProduced, uow: TrackingUnitOfWork, *, meta: EventMeta) -> None:
        await on_certificate_produced(
            event,
            uow,
            meta=meta,
            carrier=workers.carrier.name,
            carrier_name=workers.carrier_name,
            wake_registrar=workers.wake_registrar,
        )

    return [
        ConsumerSpec(
            name=CERTIFICATES_CONSUMER,
            producer="applications",
            handlers=[Takes(CertificateProduced, certificate_produced)],
        )
    ]

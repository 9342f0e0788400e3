"""The tracking service's view of the applications service's stream."""

from __future__ import annotations

from collections.abc import Callable

from esign.consumer import ConsumerSpec
from esign.events import CertificateProduced, Envelope
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.handlers.shipments import on_certificate_produced


class RegistrarWakeUp:
    """Set once the app has its registration worker; until then (and in tests without workers) a no-op."""

    def __init__(self) -> None:
        self.callback: Callable[[], None] | None = None

    def __call__(self) -> None:
        if self.callback:
            self.callback()


def certificates_consumer(carrier: str, carrier_name: str, wake: Callable[[], None]) -> ConsumerSpec:
    async def handle(uow: TrackingUnitOfWork, envelope: Envelope) -> None:
        await on_certificate_produced(uow, envelope, carrier=carrier, carrier_name=carrier_name, wake_registrar=wake)

    return ConsumerSpec(
        name="tracking-certificates", producer="applications", handlers={CertificateProduced.type: handle}
    )

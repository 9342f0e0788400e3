"""The tracking service's unit of work: the shared one plus this service's repositories."""

from __future__ import annotations

from esign.uow import UnitOfWork
from services.tracking.adapters.repositories import CarrierEventRepository, ShipmentRepository, WebhookReceiptRepository


class TrackingUnitOfWork(UnitOfWork):
    shipments: ShipmentRepository
    carrier_events: CarrierEventRepository
    webhook_receipts: WebhookReceiptRepository

    async def __aenter__(self) -> TrackingUnitOfWork:
        await super().__aenter__()
        self.shipments = ShipmentRepository(self.session)
        self.carrier_events = CarrierEventRepository(self.session)
        self.webhook_receipts = WebhookReceiptRepository(self.session)
        return self

"""The tracking service's unit of work: the shared one plus this service's repositories."""

from __future__ import annotations

from esign.rate_limit import RateLimitRepository
from esign.uow import UnitOfWork
from services.tracking.adapters import orm
from services.tracking.adapters.repositories.carrier_events import CarrierEventRepository
from services.tracking.adapters.repositories.shipments import ShipmentRepository
from services.tracking.adapters.repositories.webhook_receipts import WebhookReceiptRepository


class TrackingUnitOfWork(UnitOfWork):
    shipments: ShipmentRepository
    carrier_events: CarrierEventRepository
    webhook_receipts: WebhookReceiptRepository
    rate_limits: RateLimitRepository

    async def __aenter__(self) -> TrackingUnitOfWork:
        await super().__aenter__()
        self.shipments = ShipmentRepository(self.session)
        self.carrier_events = CarrierEventRepository(self.session)
        self.webhook_receipts = WebhookReceiptRepository(self.session)
        self.rate_limits = RateLimitRepository(self.session, orm.rate_limit_windows)
        return self

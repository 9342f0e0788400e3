"""The notifications service's unit of work: the shared one plus this service's repositories."""

from __future__ import annotations

from esign.uow import UnitOfWork
from services.notifications.adapters.repositories.certificates import CertificateRepository
from services.notifications.adapters.repositories.deliveries import DeliveryRepository
from services.notifications.adapters.repositories.digests import DigestRepository
from services.notifications.adapters.repositories.directory import DirectoryRepository
from services.notifications.adapters.repositories.recipients import RecipientRepository


class NotificationsUnitOfWork(UnitOfWork):
    recipients: RecipientRepository
    directory: DirectoryRepository
    deliveries: DeliveryRepository
    certificates: CertificateRepository
    digests: DigestRepository

    async def __aenter__(self) -> NotificationsUnitOfWork:
        await super().__aenter__()
        self.recipients = RecipientRepository(self.session)
        self.directory = DirectoryRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        self.certificates = CertificateRepository(self.session)
        self.digests = DigestRepository(self.session)
        return self

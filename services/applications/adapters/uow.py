"""The applications service's unit of work: the shared one plus this service's repositories."""

from __future__ import annotations

from esign.uow import UnitOfWork
from services.applications.adapters.repositories import (
    ApplicationRepository,
    BatchRepository,
    InstitutionRepository,
    InvitationRepository,
    PeopleRepository,
    RenewalRepository,
)


class ApplicationsUnitOfWork(UnitOfWork):
    institutions: InstitutionRepository
    people: PeopleRepository
    applications: ApplicationRepository
    invitations: InvitationRepository
    batches: BatchRepository
    renewals: RenewalRepository

    async def __aenter__(self) -> ApplicationsUnitOfWork:
        await super().__aenter__()
        self.institutions = InstitutionRepository(self.session)
        self.people = PeopleRepository(self.session)
        self.applications = ApplicationRepository(self.session)
        self.invitations = InvitationRepository(self.session)
        self.batches = BatchRepository(self.session)
        self.renewals = RenewalRepository(self.session)
        return self

"""The applications service's unit of work: the shared one plus this service's repositories."""

from __future__ import annotations

from esign.rate_limit import RateLimitRepository
from esign.uow import UnitOfWork
from services.applications.adapters import orm
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
    rate_limits: RateLimitRepository

    async def __aenter__(self) -> ApplicationsUnitOfWork:
        await super().__aenter__()
        self.institutions = InstitutionRepository(self.session)
        self.people = PeopleRepository(self.session)
        self.applications = ApplicationRepository(self.session)
        self.invitations = InvitationRepository(self.session)
        self.batches = BatchRepository(self.session)
        self.renewals = RenewalRepository(self.session)
        self.rate_limits = RateLimitRepository(self.session, orm.rate_limit_windows)
        return self

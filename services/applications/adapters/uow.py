"""The applications service's unit of work: the shared one plus this service's repositories."""

from __future__ import annotations

from typing import Any

from esign.rate_limit import RateLimitRepository
from esign.uow import UnitOfWork
from services.applications.adapters import orm
from services.applications.adapters.people_erasure import PeopleErasureRepository
from services.applications.adapters.personal_data import PeopleCodec
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
    people_erasure: PeopleErasureRepository
    applications: ApplicationRepository
    invitations: InvitationRepository
    batches: BatchRepository
    renewals: RenewalRepository
    rate_limits: RateLimitRepository

    def __init__(self, *args: Any, codec: PeopleCodec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._codec = codec  # the people columns are encrypted at rest

    async def __aenter__(self) -> ApplicationsUnitOfWork:
        await super().__aenter__()
        self.institutions = InstitutionRepository(self.session)
        self.people = PeopleRepository(self.session, self._codec)
        self.people_erasure = PeopleErasureRepository(self.session)
        self.applications = ApplicationRepository(self.session, self._codec)
        self.invitations = InvitationRepository(self.session)
        self.batches = BatchRepository(self.session, self._codec)
        self.renewals = RenewalRepository(self.session, self._codec)
        self.rate_limits = RateLimitRepository(self.session, orm.rate_limit_windows)
        return self

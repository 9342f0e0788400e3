"""Every query of the applications service, one module per aggregate (docs/architecture.md,
"Repositories"). They take and return domain objects or the small frozen records defined next to
them, never rows; the people columns are opened in one place (``people_columns``)."""

from services.applications.adapters.repositories.applications import ApplicationRepository, ConcurrentUpdate
from services.applications.adapters.repositories.batches import BatchRepository
from services.applications.adapters.repositories.institutions import InstitutionRepository
from services.applications.adapters.repositories.invitations import InvitationRepository
from services.applications.adapters.repositories.people import PeopleRepository
from services.applications.adapters.repositories.renewals import RenewalRepository

__all__ = [
    "ApplicationRepository",
    "BatchRepository",
    "ConcurrentUpdate",
    "InstitutionRepository",
    "InvitationRepository",
    "PeopleRepository",
    "RenewalRepository",
]

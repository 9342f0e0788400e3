"""FastAPI dependencies of the applications API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from esign.auth import Principal, Role, require
from esign.service import unit_of_work
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.config import ApplicationsSettings
from services.applications.domain.invitation import PasswordHasher
from services.applications.handlers.invitations import InvitationPolicy
from services.applications.handlers.renewal import RenewalPolicy

UoW = Annotated[ApplicationsUnitOfWork, unit_of_work]

Operator = Annotated[Principal, Depends(require(Role.CA_OPERATOR))]
Officer = Annotated[Principal, Depends(require(Role.INSTITUTION_OFFICER))]
Staff = Annotated[Principal, Depends(require(Role.CA_OPERATOR, Role.INSTITUTION_OFFICER))]
Applicant = Annotated[Principal, Depends(require(Role.APPLICANT))]
AnyRole = Annotated[Principal, Depends(require(Role.CA_OPERATOR, Role.INSTITUTION_OFFICER, Role.APPLICANT))]


def settings(request: Request) -> ApplicationsSettings:
    return request.app.state.settings


def hasher(request: Request) -> PasswordHasher:
    """Argon2id: for the security word, a secret a person chooses."""
    return request.app.state.hasher


def invitation_hasher(request: Request) -> PasswordHasher:
    """For the generated invitation password (and the Argon2id hashes issued before)."""
    return request.app.state.invitation_hasher


def invitation_policy(request: Request) -> InvitationPolicy:
    return request.app.state.invitation_policy


def renewal_policy(request: Request) -> RenewalPolicy:
    return request.app.state.renewal_policy


Settings = Annotated[ApplicationsSettings, Depends(settings)]
RenewalPolicyDep = Annotated[RenewalPolicy, Depends(renewal_policy)]
Hasher = Annotated[PasswordHasher, Depends(hasher)]
InvitationHasher = Annotated[PasswordHasher, Depends(invitation_hasher)]
Policy = Annotated[InvitationPolicy, Depends(invitation_policy)]

"""Institutions and their NES officers (created by CA operators)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from esign.auth import Principal
from esign.events import InstitutionCreated, OfficerAdded
from esign.problems import Conflict, NotFound
from services.applications.adapters.repositories.institutions import InstitutionRecord, OfficerRecord
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.handlers.access import ensure_institution_visible


@dataclass(frozen=True)
class CreateInstitution:
    name: str


@dataclass(frozen=True)
class AddOfficer:
    institution_id: uuid.UUID
    subject: str
    full_name: str
    email: str
    mobile: str | None


async def create_institution(cmd: CreateInstitution, uow: ApplicationsUnitOfWork) -> uuid.UUID:
    if await uow.institutions.name_taken(cmd.name):
        raise Conflict("institution_exists", "An institution with this name already exists.")
    institution_id = uuid.uuid4()
    await uow.institutions.add(institution_id, cmd.name)
    uow.emit(InstitutionCreated(institution_id=institution_id, name=cmd.name))
    return institution_id


async def add_officer(cmd: AddOfficer, uow: ApplicationsUnitOfWork) -> uuid.UUID:
    if await uow.institutions.get(cmd.institution_id) is None:
        raise NotFound("institution")
    if await uow.institutions.officer_subject_taken(cmd.subject):
        raise Conflict("officer_exists", "An officer with this login already exists.")
    officer_id = uuid.uuid4()
    await uow.institutions.add_officer(
        OfficerRecord(
            id=officer_id,
            institution_id=cmd.institution_id,
            subject=cmd.subject,
            full_name=cmd.full_name,
            email=cmd.email,
            mobile=cmd.mobile,
        )
    )
    uow.emit(
        OfficerAdded(
            institution_id=cmd.institution_id,
            officer_id=officer_id,
            full_name=cmd.full_name,
            email=cmd.email,
            mobile=cmd.mobile,
        )
    )
    return officer_id


async def get_institution(
    institution_id: uuid.UUID, uow: ApplicationsUnitOfWork, *, principal: Principal
) -> InstitutionRecord:
    ensure_institution_visible(principal, institution_id)
    institution = await uow.institutions.get(institution_id)
    if institution is None:
        raise NotFound("institution")
    return institution

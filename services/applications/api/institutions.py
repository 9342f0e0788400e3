"""Institutions and their NES officers."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from esign.auth import Role
from esign.problems import problem_responses
from services.applications.adapters.repositories.institutions import InstitutionRecord
from services.applications.api.deps import Operator, Staff, UoW
from services.applications.api.schemas import InstitutionIn, InstitutionOut, OfficerIn, OfficerOut
from services.applications.handlers import institutions as handlers
from services.applications.handlers.access import ensure_institution_visible


def _institution_out(institution: InstitutionRecord) -> InstitutionOut:
    return InstitutionOut(id=institution.id, name=institution.name, created_at=institution.created_at)


router = APIRouter(prefix="/v1/institutions", tags=["institutions"], responses=problem_responses(401, 403))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InstitutionOut,
    summary="Create an institution (CA operator)",
    responses=problem_responses(409, 422),
)
async def create_institution(body: InstitutionIn, uow: UoW, principal: Operator) -> InstitutionOut:
    institution_id = await handlers.create_institution(handlers.CreateInstitution(body.name), uow)
    return _institution_out(await handlers.get_institution(institution_id, uow, principal=principal))


@router.get("", response_model=list[InstitutionOut], summary="Institutions you can see (officers: their own)")
async def list_institutions(uow: UoW, principal: Staff) -> list[InstitutionOut]:
    only = principal.institution_id if principal.role is Role.INSTITUTION_OFFICER else None
    return [_institution_out(i) for i in await uow.institutions.list(only)]


@router.get(
    "/{institution_id}", response_model=InstitutionOut, summary="One institution", responses=problem_responses(404)
)
async def get_institution(institution_id: uuid.UUID, uow: UoW, principal: Staff) -> InstitutionOut:
    return _institution_out(await handlers.get_institution(institution_id, uow, principal=principal))


@router.post(
    "/{institution_id}/officers",
    status_code=status.HTTP_201_CREATED,
    response_model=OfficerOut,
    summary="Register an NES officer of the institution (CA operator)",
    responses=problem_responses(404, 409, 422),
)
async def add_officer(institution_id: uuid.UUID, body: OfficerIn, uow: UoW, _: Operator) -> OfficerOut:
    officer_id = await handlers.add_officer(
        handlers.AddOfficer(institution_id, body.subject, body.full_name, str(body.email), body.mobile), uow
    )
    return OfficerOut(
        id=officer_id,
        institution_id=institution_id,
        subject=body.subject,
        full_name=body.full_name,
        email=str(body.email),
        mobile=body.mobile,
    )


@router.get(
    "/{institution_id}/officers",
    response_model=list[OfficerOut],
    summary="The institution's NES officers",
    responses=problem_responses(404),
)
async def list_officers(institution_id: uuid.UUID, uow: UoW, principal: Staff) -> list[OfficerOut]:
    ensure_institution_visible(principal, institution_id)
    return [OfficerOut.model_validate(o, from_attributes=True) for o in await uow.institutions.officers(institution_id)]

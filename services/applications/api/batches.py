"""Batches of received applications forwarded to the CA, with their manifests."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from esign.auth import Role
from esign.problems import problem_responses
from services.applications.api.deps import Officer, Staff, UoW
from services.applications.api.schemas import BatchIn, BatchManifest, BatchOut, ManifestEntry
from services.applications.domain.tckn import mask_tckn
from services.applications.handlers import review

router = APIRouter(tags=["batches"], responses=problem_responses(401, 403))


async def _manifest(uow: UoW, batch_id: uuid.UUID, principal) -> BatchManifest:
    batch, members = await review.batch_manifest(batch_id, uow, principal)
    return BatchManifest(
        batch=BatchOut(**batch._mapping, size=len(members)),
        entries=[
            ManifestEntry(
                application_id=m.id,
                status=m.status,
                tckn_masked=mask_tckn(m.tckn),
                first_name=m.first_name,
                last_name=m.last_name,
                signed_form=m.signed_form,
            )
            for m in members
        ],
    )


@router.post(
    "/v1/institutions/{institution_id}/batches",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchManifest,
    summary="Forward received applications to the CA as one batch (NES officer)",
    description="All or nothing: every application must belong to the institution and have its signed form "
    "recorded, otherwise nothing is forwarded (409 lists the ones that are not ready).",
    responses=problem_responses(404, 409, 422),
)
async def forward(institution_id: uuid.UUID, body: BatchIn, uow: UoW, principal: Officer) -> BatchManifest:
    batch_id = await review.forward_batch(
        review.ForwardBatch(institution_id, body.application_ids, body.note), uow, principal
    )
    return await _manifest(uow, batch_id, principal)


@router.get("/v1/batches", response_model=list[BatchOut], summary="Batches (officers: their institution's)")
async def list_batches(uow: UoW, principal: Staff, institution_id: uuid.UUID | None = None) -> list[BatchOut]:
    scope = principal.institution_id if principal.role is Role.INSTITUTION_OFFICER else institution_id
    return [BatchOut(**{k: v for k, v in r._mapping.items()}) for r in await uow.batches.list(scope)]


@router.get(
    "/v1/batches/{batch_id}",
    response_model=BatchManifest,
    summary="A batch and its manifest",
    responses=problem_responses(404),
)
async def get_batch(batch_id: uuid.UUID, uow: UoW, principal: Staff) -> BatchManifest:
    return await _manifest(uow, batch_id, principal)

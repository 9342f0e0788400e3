"""Batches of received applications forwarded to the CA, with their manifests."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from esign.auth import Principal, Role
from esign.problems import problem_responses
from esign.service import ClockDep
from services.applications.adapters.repositories.batches import BatchRecord
from services.applications.adapters.repositories.documents import receipt_to_document
from services.applications.api.deps import Officer, Staff, UoW
from services.applications.api.schemas import BatchIn, BatchManifest, BatchOut, ManifestEntry
from services.applications.domain.tckn import mask_tckn
from services.applications.handlers import review

router = APIRouter(tags=["batches"], responses=problem_responses(401, 403))


def _batch_out(batch: BatchRecord) -> BatchOut:
    return BatchOut.model_validate(batch, from_attributes=True)


async def manifest_of(uow: UoW, batch_id: uuid.UUID, principal: Principal) -> BatchManifest:
    """A batch and its members as the API shows them: what forwarding (first applications) and
    filing (renewals) both answer with."""
    manifest = await review.batch_manifest(batch_id, uow, principal=principal)
    return BatchManifest(
        batch=_batch_out(manifest.batch),
        entries=[
            ManifestEntry(
                application_id=m.application_id,
                status=m.status.value,
                tckn_masked=mask_tckn(m.person.tckn),
                first_name=m.person.first_name,
                last_name=m.person.last_name,
                signed_form=receipt_to_document(m.signed_form),
            )
            for m in manifest.members
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
async def forward(
    institution_id: uuid.UUID, body: BatchIn, uow: UoW, principal: Officer, clock: ClockDep
) -> BatchManifest:
    batch_id = await review.forward_batch(
        review.ForwardBatch(institution_id, body.application_ids, body.note), uow, principal=principal, clock=clock
    )
    return await manifest_of(uow, batch_id, principal)


@router.get("/v1/batches", response_model=list[BatchOut], summary="Batches (officers: their institution's)")
async def list_batches(uow: UoW, principal: Staff, institution_id: uuid.UUID | None = None) -> list[BatchOut]:
    scope = principal.institution_id if principal.role is Role.INSTITUTION_OFFICER else institution_id
    return [_batch_out(b) for b in await uow.batches.list(scope)]


@router.get(
    "/v1/batches/{batch_id}",
    response_model=BatchManifest,
    summary="A batch and its manifest",
    responses=problem_responses(404),
)
async def get_batch(batch_id: uuid.UUID, uow: UoW, principal: Staff) -> BatchManifest:
    return await manifest_of(uow, batch_id, principal)

"""Applications as officers and CA operators see and move them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from esign.auth import Principal
from esign.params import Limit, Offset
from esign.problems import NotFound, problem_responses
from esign.service import ClockDep
from services.applications.api.deps import (
    AnyRole,
    InvitationHasher,
    Officer,
    Operator,
    Policy,
    Settings,
    Staff,
    UoW,
)
from services.applications.api.schemas import (
    ApplicationOut,
    ApplicationPage,
    ExpiryWarningOut,
    InvitationOut,
    ProductionIn,
    ReasonIn,
    SignedFormIn,
    StatusSummary,
    TransitionOut,
)
from services.applications.domain.application import FORM_NOT_FILLED, Status
from services.applications.handlers import review
from services.applications.handlers.access import ensure_application_visible
from services.applications.handlers.applicant import load_visible, printable_form
from services.applications.handlers.invitations import ReissueInvitation, reissue

router = APIRouter(prefix="/v1/applications", tags=["applications"], responses=problem_responses(401, 403))

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The printable form (A4 PDF)."}
}


async def shown(uow: UoW, application_id: uuid.UUID, principal: Principal | None = None) -> ApplicationOut:
    """The application as the API shows it; with ``principal``, only if that caller may see it."""
    view = await uow.applications.view(application_id)
    if view is None:
        raise NotFound("application")
    if principal is not None:
        ensure_application_visible(principal, view.institution_id, view.id)
    return ApplicationOut.from_view(view)


@router.get(
    "",
    response_model=ApplicationPage,
    summary="List applications (officers: their institution's)",
    responses=problem_responses(404, 422),
)
async def list_applications(
    uow: UoW,
    principal: Staff,
    institution_id: uuid.UUID | None = None,
    status_: Annotated[list[Status] | None, Query(alias="status", description="Repeat to match several.")] = None,
    form_not_filled: Annotated[bool, Query(description="Only people who have not completed the form yet.")] = False,
    q: Annotated[str | None, Query(max_length=100, description="Name or e-mail contains.")] = None,
    expires_within_days: Annotated[
        int | None,
        Query(
            ge=1,
            le=400,
            description="Only applications whose certificate is still valid and expires within this many days "
            "(the officer's \"expiring soon\" list; each one's warnings are at `/{id}/expiry-warnings`).",
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ApplicationPage:
    page = await uow.applications.list_views(
        institution_id=principal.institution_scope(institution_id),
        statuses=status_,
        form_not_filled=form_not_filled,
        search=q,
        limit=limit,
        offset=offset,
        expires_within_days=expires_within_days,
    )
    return ApplicationPage(
        total=page.total, limit=limit, offset=offset, items=[ApplicationOut.from_view(v) for v in page.items]
    )


@router.get("/summary", response_model=StatusSummary, summary="Counts per status", responses=problem_responses(404))
async def summary(uow: UoW, principal: Staff, institution_id: uuid.UUID | None = None) -> StatusSummary:
    scope = principal.institution_scope(institution_id)
    counts = await uow.applications.counts_by_status(scope)
    by_status = {s.value: counts.get(s.value, 0) for s in Status}
    return StatusSummary(
        institution_id=scope,
        total=sum(by_status.values()),
        by_status=by_status,
        form_not_filled=sum(by_status[s] for s in FORM_NOT_FILLED),
    )


@router.get(
    "/{application_id}", response_model=ApplicationOut, summary="One application", responses=problem_responses(404)
)
async def get_application(application_id: uuid.UUID, uow: UoW, principal: AnyRole) -> ApplicationOut:
    return await shown(uow, application_id, principal)


@router.get(
    "/{application_id}/history",
    response_model=list[TransitionOut],
    summary="Audit trail: every transition with who, when, from, to and why",
    responses=problem_responses(404),
)
async def history(application_id: uuid.UUID, uow: UoW, principal: Staff) -> list[TransitionOut]:
    await load_visible(uow, application_id, principal=principal)
    return [
        TransitionOut.model_validate(t, from_attributes=True) for t in await uow.applications.history(application_id)
    ]


@router.get(
    "/{application_id}/expiry-warnings",
    response_model=list[ExpiryWarningOut],
    summary="Warnings sent to the holder before the certificate expires (from the notifications service)",
    responses=problem_responses(404),
)
async def expiry_warnings(application_id: uuid.UUID, uow: UoW, principal: Staff) -> list[ExpiryWarningOut]:
    await load_visible(uow, application_id, principal=principal)
    warnings = await uow.applications.expiry_warnings(application_id)
    return [ExpiryWarningOut.model_validate(w, from_attributes=True) for w in warnings]


@router.get(
    "/{application_id}/form.pdf",
    response_class=Response,
    responses={**PDF_RESPONSE, **problem_responses(404, 409)},
    summary="The completed form as a printable PDF, for wet signature",
)
async def form_pdf(application_id: uuid.UUID, uow: UoW, principal: AnyRole, settings: Settings) -> Response:
    pdf = await printable_form(application_id, uow, principal=principal, font_dir=settings.pdf_font_dir)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="nes-basvuru-{application_id}.pdf"'},
    )


@router.post(
    "/{application_id}/invitation",
    response_model=InvitationOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-issue the invitation (NES officer): new link and password, the old ones stop working",
    responses=problem_responses(404, 409),
)
async def reissue_invitation(
    application_id: uuid.UUID, uow: UoW, principal: Officer, clock: ClockDep, hasher: InvitationHasher, policy: Policy
) -> InvitationOut:
    inv = await reissue(
        ReissueInvitation(application_id), uow, principal=principal, clock=clock, hasher=hasher, policy=policy
    )
    return InvitationOut(
        state=inv.state.value, expires_at=inv.expires_at, locked_until=inv.locked_until, times_issued=inv.times_issued
    )


@router.post(
    "/{application_id}/signed-form",
    response_model=ApplicationOut,
    summary="Record how the wet-signed form arrived (NES officer)",
    responses=problem_responses(404, 409, 422),
)
async def record_signed_form(
    application_id: uuid.UUID, body: SignedFormIn, uow: UoW, principal: Officer, clock: ClockDep
) -> ApplicationOut:
    await review.record_signed_form(
        review.RecordSignedForm(application_id, body.channel, body.received_on, body.reference),
        uow,
        principal=principal,
        clock=clock,
    )
    return await shown(uow, application_id)


@router.post(
    "/{application_id}/withdrawal",
    response_model=ApplicationOut,
    summary="Withdraw an application before it reaches the CA (NES officer)",
    responses=problem_responses(404, 409, 422),
)
async def withdraw(
    application_id: uuid.UUID, body: ReasonIn, uow: UoW, principal: Officer, clock: ClockDep
) -> ApplicationOut:
    await review.withdraw(
        review.WithdrawApplication(application_id, body.reason), uow, principal=principal, clock=clock
    )
    return await shown(uow, application_id)


@router.post(
    "/{application_id}/rejection",
    response_model=ApplicationOut,
    summary="Reject a forwarded application with a reason (CA operator)",
    responses=problem_responses(404, 409, 422),
)
async def reject(
    application_id: uuid.UUID, body: ReasonIn, uow: UoW, principal: Operator, clock: ClockDep
) -> ApplicationOut:
    await review.reject(review.RejectApplication(application_id, body.reason), uow, principal=principal, clock=clock)
    return await shown(uow, application_id)


@router.post(
    "/{application_id}/production",
    response_model=ApplicationOut,
    summary="Record the produced certificate and card (CA operator)",
    responses=problem_responses(404, 409, 422),
)
async def record_production(
    application_id: uuid.UUID, body: ProductionIn, uow: UoW, principal: Operator, clock: ClockDep
) -> ApplicationOut:
    await review.record_production(
        review.RecordProduction(
            application_id=application_id,
            certificate_serial=body.certificate_serial,
            not_before=body.not_before,
            not_after=body.not_after,
            card_type=body.card_type,
            public_key=body.public_key,
        ),
        uow,
        principal=principal,
        clock=clock,
    )
    return await shown(uow, application_id)

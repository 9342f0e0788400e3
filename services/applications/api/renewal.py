"""Renewal with e-approval over HTTP (docs/renewal.md; the contract the renewal page builds on).

The holder signs in with the card (Web eID model), sees and corrects the renewal request,
e-approves it with a PAdES signature made by the card, and later approves the Renewal Form from
the e-mailed link. Officers list and file renewals and re-send the Renewal Form; CA operators
download the signed request and its validation report.
"""

from __future__ import annotations

import base64
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status

from esign import rate_limit
from esign.auth import Principal, Role, require
from esign.params import Limit, Offset
from esign.problems import problem_responses
from esign.service import ClockDep
from services.applications.api.batches import manifest_of
from services.applications.api.deps import Officer, RenewalPolicyDep, Staff, UoW
from services.applications.api.schemas import (
    AddressOut,
    ApprovalIn,
    BatchManifest,
    CardSignInIn,
    ChallengeIn,
    ChallengeOut,
    EApprovalReport,
    HolderSessionOut,
    OldCertificateOut,
    PreparationIn,
    PreparationOut,
    RenewalBatchIn,
    RenewalFormApprovedOut,
    RenewalFormOut,
    RenewalFormTokenIn,
    RenewalListItem,
    RenewalOut,
    RenewalPage,
    RenewalPatchIn,
    ResendOut,
)
from services.applications.domain.application import Status
from services.applications.domain.tckn import mask_tckn
from services.applications.handlers import renewal as handlers
from services.applications.handlers.access import own_application_id

router = APIRouter(tags=["renewal"])
# Nothing authenticates these callers yet, so each address gets a budget (esign/rate_limit.py).
public_limit = Depends(
    rate_limit.per_client_limit(
        "renewal",
        lambda settings: rate_limit.RateLimit(settings.renewal_public_limit, settings.renewal_public_window_seconds),
    )
)
Holder = Annotated[Principal, Depends(require(Role.RENEWAL_HOLDER))]

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PAdES-signed renewal request."}
}


def _renewal_out(view: handlers.RenewalView) -> RenewalOut:
    app, record, person, form = view.application, view.record, view.person, view.application.form
    address = form.delivery_address
    return RenewalOut(
        id=app.id,
        status=app.status,
        first_name=person.first_name,
        last_name=person.last_name,
        tckn_masked=mask_tckn(person.tckn),
        title=form.title,
        institutional_email=form.institutional_email,
        unit=form.unit,
        delivery_address=AddressOut(**address.__dict__) if address else None,
        mobile=form.mobile,
        validity_years=int(form.validity_years) if form.validity_years else None,
        old_certificate=OldCertificateOut(serial=record.old_serial, not_after=record.old_not_after),
        new_not_before=record.old_not_after,
        e_approved_at=record.e_approved_at,
    )


async def _mine(uow: UoW, principal: Principal) -> RenewalOut:
    return _renewal_out(await handlers.renewal_view(own_application_id(principal), uow, principal=principal))


# ---------------------------------------------------------------- holder


@router.post(
    "/v1/renewal/challenges",
    status_code=status.HTTP_201_CREATED,
    response_model=ChallengeOut,
    summary="A nonce for the card to sign (step 1 of the card sign-in)",
    description="256 random bits, single use, valid a few minutes, stored only as a hash. `to_sign` binds it "
    "to this site's origin; the request's `Origin` header must be that origin (403 `origin_mismatch`).",
    dependencies=[public_limit],
    responses=problem_responses(403, 422, 429),
)
async def create_challenge(
    body: ChallengeIn,
    uow: UoW,
    clock: ClockDep,
    policy: RenewalPolicyDep,
    origin: Annotated[str | None, Header()] = None,
) -> ChallengeOut:
    issued = await handlers.create_challenge(handlers.CreateChallenge(origin), uow, clock=clock, policy=policy)
    return ChallengeOut(
        challenge_id=issued.challenge_id,
        to_sign=base64.b64encode(issued.to_sign).decode(),
        mechanisms=handlers.SUPPORTED_MECHANISMS,
        expires_at=issued.expires_at,
    )


@router.post(
    "/v1/renewal/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=HolderSessionOut,
    summary="Sign in with the card: the signed challenge and the certificate (step 2)",
    description="Checks, in order: challenge (401 `challenge_invalid`), signature (401 `signature_invalid`), "
    "chain to the trust anchors (`certificate_untrusted`), validity (`certificate_expired`, "
    "`certificate_not_yet_valid`), revocation (`certificate_revoked`), non-repudiation "
    "(`certificate_key_usage`), serial on record (`certificate_unknown`), holder's TC Kimlik No "
    "(`certificate_subject_mismatch`), the renewal window (409 `renewal_window_not_open` with "
    "`window_opens_on`) and an earlier renewal (409 `certificate_already_renewed`). Creates the renewal "
    "(status `draft`) or resumes the open one; the token is good for this renewal only.",
    dependencies=[public_limit],
    responses=problem_responses(401, 403, 409, 422, 429),
)
async def create_session(body: CardSignInIn, uow: UoW, clock: ClockDep, policy: RenewalPolicyDep) -> HolderSessionOut:
    session = await handlers.sign_in_with_card(
        handlers.SignInWithCard(
            body.challenge_id, base64.b64decode(body.certificate), base64.b64decode(body.signature), body.mechanism
        ),
        uow,
        clock=clock,
        policy=policy,
    )
    return HolderSessionOut(
        access_token=session.access_token, expires_in=session.expires_in, renewal_id=session.renewal_id
    )


@router.get(
    "/v1/renewal",
    response_model=RenewalOut,
    summary="My renewal request (holder session)",
    responses=problem_responses(401, 403, 404),
)
async def my_renewal(uow: UoW, principal: Holder) -> RenewalOut:
    return await _mine(uow, principal)


@router.patch(
    "/v1/renewal",
    response_model=RenewalOut,
    summary="Correct the renewal request: title, unit, delivery address, mobile, validity",
    description="Name, TC Kimlik No and e-mail cannot change in a renewal. 409 `renewal_not_editable` after "
    "the e-approval; 422 with `errors` for a field that is not valid (nothing is saved).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def patch_renewal(body: RenewalPatchIn, uow: UoW, principal: Holder, clock: ClockDep) -> RenewalOut:
    patch = body.model_dump(exclude_unset=True)
    await handlers.edit_renewal_request(handlers.EditRenewalRequest(patch), uow, principal=principal, clock=clock)
    return await _mine(uow, principal)


@router.post(
    "/v1/renewal/approval/preparations",
    status_code=status.HTTP_201_CREATED,
    response_model=PreparationOut,
    summary="Prepare the e-approval: the renewal request PDF and the CMS signed attributes to sign",
    description="The server renders the request (with a fresh nonce bound to this renewal), prepares a PAdES "
    "signature and keeps the prepared state for a few minutes, single use. The certificate must be the one "
    "you signed in with (403 `certificate_mismatch`).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def prepare(
    body: PreparationIn, uow: UoW, principal: Holder, clock: ClockDep, policy: RenewalPolicyDep
) -> PreparationOut:
    prepared = await handlers.prepare_approval(
        handlers.PrepareApproval(base64.b64decode(body.certificate), body.mechanism),
        uow,
        principal=principal,
        clock=clock,
        policy=policy,
    )
    return PreparationOut(
        preparation_id=prepared.preparation_id,
        to_sign=base64.b64encode(prepared.to_sign).decode(),
        expires_at=prepared.expires_at,
    )


@router.post(
    "/v1/renewal/approval",
    response_model=RenewalOut,
    summary="E-approve: the card's signature over the prepared attributes",
    description="The signature is checked against the certificate's key over exactly the stored attributes, "
    "embedded, and the finished PDF validated (intact, trusted, whole file, non-repudiation). Refused: "
    "409 `preparation_invalid` (unknown, used, expired), 422 `signature_invalid`.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def approve(
    body: ApprovalIn, uow: UoW, principal: Holder, clock: ClockDep, policy: RenewalPolicyDep
) -> RenewalOut:
    await handlers.finish_approval(
        handlers.FinishApproval(body.preparation_id, base64.b64decode(body.signature)),
        uow,
        principal=principal,
        clock=clock,
        policy=policy,
    )
    return await _mine(uow, principal)


@router.get(
    "/v1/renewal/approval.pdf",
    response_class=Response,
    summary="My signed renewal request (PDF)",
    responses={**PDF_RESPONSE, **problem_responses(401, 403, 404)},
)
async def my_approval_pdf(uow: UoW, principal: Holder) -> Response:
    approval = await handlers.e_approval(own_application_id(principal), uow, principal=principal)
    return _pdf(approval.signed_pdf, "nes-yenileme-e-onay.pdf")


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


# ---------------------------------------------------------------- the Renewal Form link


def _form_out(view: handlers.RenewalView) -> RenewalFormOut:
    app, person, form = view.application, view.person, view.application.form
    return RenewalFormOut(
        renewal_id=app.id,
        status=app.status,
        first_name=person.first_name,
        last_name=person.last_name,
        tckn_masked=mask_tckn(person.tckn),
        title=form.title,
        unit=form.unit,
        institutional_email=form.institutional_email,
        validity_years=int(form.validity_years) if form.validity_years else None,
        institution_name=view.institution_name,
    )


@router.post(
    "/v1/renewal-forms/view",
    response_model=RenewalFormOut,
    summary="The Renewal Form behind an e-mailed link (the token from its #fragment)",
    description="404 `renewal_form_link_invalid` (unknown, used or replaced), 410 `renewal_form_link_expired`.",
    dependencies=[public_limit],
    responses=problem_responses(404, 410, 422, 429),
)
async def view_form(body: RenewalFormTokenIn, uow: UoW, clock: ClockDep) -> RenewalFormOut:
    return _form_out(await handlers.view_renewal_form(handlers.RenewalFormToken(body.token), uow, clock=clock))


@router.post(
    "/v1/renewal-forms/approval",
    response_model=RenewalFormApprovedOut,
    summary="Approve the Renewal Form (single use): the renewal goes to the CA",
    dependencies=[public_limit],
    responses=problem_responses(404, 409, 410, 422, 429),
)
async def approve_form(body: RenewalFormTokenIn, uow: UoW, clock: ClockDep) -> RenewalFormApprovedOut:
    app = await handlers.approve_renewal_form(handlers.RenewalFormToken(body.token), uow, clock=clock)
    return RenewalFormApprovedOut(status=app.status)


# ---------------------------------------------------------------- officer / operator


@router.get(
    "/v1/renewals",
    response_model=RenewalPage,
    summary="Renewals (officers: their institution's), e.g. `?status=e_approved` to file, `filed` to chase",
    responses=problem_responses(401, 403, 422),
)
async def list_renewals(
    uow: UoW,
    principal: Staff,
    status_: Annotated[list[Status] | None, Query(alias="status", description="Repeat to match several.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RenewalPage:
    scope = principal.institution_id if principal.role is Role.INSTITUTION_OFFICER else None
    page = await uow.renewals.summaries(institution_id=scope, statuses=status_ or [], limit=limit, offset=offset)
    return RenewalPage(
        total=page.total,
        items=[
            RenewalListItem(
                id=r.id,
                institution_id=r.institution_id,
                status=r.status,
                first_name=r.person.first_name,
                last_name=r.person.last_name,
                tckn_masked=mask_tckn(r.person.tckn),
                email=r.email,
                batch_id=r.batch_id,
                renews_application_id=r.renews_application_id,
                old_certificate=OldCertificateOut(serial=r.old_serial, not_after=r.old_not_after),
                e_approved_at=r.e_approved_at,
                form_link_expires_at=r.form_link_expires_at,
                form_approved_at=r.form_approved_at,
            )
            for r in page.items
        ],
    )


@router.post(
    "/v1/institutions/{institution_id}/renewal-batches",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchManifest,
    summary="File the institutional renewal application for e-approved renewals (NES officer)",
    description="All or nothing, like first-application batches. Each renewal becomes `filed` and its holder "
    "is sent the Renewal Form link (a new secret, sealed for the notifications service).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def file_renewals(
    institution_id: uuid.UUID,
    body: RenewalBatchIn,
    uow: UoW,
    principal: Officer,
    clock: ClockDep,
    policy: RenewalPolicyDep,
) -> BatchManifest:
    batch_id = await handlers.file_renewals(
        handlers.FileRenewals(institution_id, body.renewal_ids, body.note),
        uow,
        principal=principal,
        clock=clock,
        policy=policy,
    )
    return await manifest_of(uow, batch_id, principal)


@router.post(
    "/v1/renewals/{renewal_id}/renewal-form/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ResendOut,
    summary="Send the Renewal Form again (NES officer): a new link, the old one stops working",
    responses=problem_responses(401, 403, 404, 409),
)
async def resend_form(
    renewal_id: uuid.UUID, uow: UoW, principal: Officer, clock: ClockDep, policy: RenewalPolicyDep
) -> ResendOut:
    expires = await handlers.resend_renewal_form(
        handlers.ResendRenewalForm(renewal_id), uow, principal=principal, clock=clock, policy=policy
    )
    return ResendOut(link_expires_at=expires)


@router.get(
    "/v1/applications/{application_id}/e-approval.pdf",
    response_class=Response,
    summary="A renewal's PAdES-signed request (CA operator, NES officer)",
    responses={**PDF_RESPONSE, **problem_responses(401, 403, 404)},
)
async def e_approval_pdf(application_id: uuid.UUID, uow: UoW, principal: Staff) -> Response:
    approval = await handlers.e_approval(application_id, uow, principal=principal)
    return _pdf(approval.signed_pdf, f"nes-yenileme-e-onay-{application_id}.pdf")


@router.get(
    "/v1/applications/{application_id}/e-approval",
    response_model=EApprovalReport,
    summary="The validation report of a renewal's e-approval: signer, chain, when, integrity, trust",
    responses=problem_responses(401, 403, 404),
)
async def e_approval_report(application_id: uuid.UUID, uow: UoW, principal: Staff) -> EApprovalReport:
    approval = await handlers.e_approval(application_id, uow, principal=principal)
    return EApprovalReport(**approval.validation_report)

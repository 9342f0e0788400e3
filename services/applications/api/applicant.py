"""The applicant's side: sign in with the invitation, fill the form, print it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from esign.auth import Principal
from esign.problems import NotFound, problem_responses
from esign.service import ClockDep
from services.applications.api.applications import PDF_RESPONSE
from services.applications.api.deps import Applicant, Hasher, InvitationHasher, Policy, Settings, UoW
from services.applications.api.schemas import ApplicationOut, FormSavedOut, SecurityWordIn, SignInIn, SignInOut
from services.applications.handlers import applicant as handlers
from services.applications.handlers.access import own_application_id
from services.applications.handlers.invitations import SignIn, sign_in

router = APIRouter(prefix="/v1/applicant", tags=["applicant"])

_FORM_PATCH_EXAMPLE = {
    "registry_number": "A-1024",
    "card_reader_type": "acr39u",
    "validity_years": 3,
    "prior_certificate_reason": "none",
    "publish_consent": True,
    "delivery_address": {
        "line1": "Bilgi İşlem Daire Bşk., Kampüs",
        "district": "Çankaya",
        "city": "Ankara",
        "postal_code": "06800",
    },
}


async def _mine(uow: UoW, principal: Principal) -> ApplicationOut:
    view = await uow.applications.view(own_application_id(principal))
    if view is None:
        raise NotFound("application")
    return ApplicationOut.from_view(view)


REOPENED_NOTICE = (
    "The form was completed; this change reopened it. Complete it again, then print and sign the new form: "
    "a form printed before is out of date."
)


async def _saved(uow: UoW, principal: Principal, saved: handlers.FormSaved) -> FormSavedOut:
    view = await _mine(uow, principal)
    return FormSavedOut(
        **view.model_dump(),
        form_reopened=saved.reopened,
        notice=REOPENED_NOTICE if saved.reopened else None,
    )


@router.post(
    "/sessions",
    response_model=SignInOut,
    summary="Sign in with the invitation's link token and access password",
    description="Five wrong passwords lock the invitation for a while (423 with `Retry-After`).",
    responses=problem_responses(401, 410, 422, 423),
)
async def create_session(
    body: SignInIn,
    request: Request,
    uow: UoW,
    clock: ClockDep,
    hasher: InvitationHasher,
    policy: Policy,
    settings: Settings,
) -> SignInOut:
    session = await sign_in(
        SignIn(body.token, body.password),
        uow,
        clock=clock,
        hasher=hasher,
        policy=policy,
        token_secret=request.app.state.applicant_token_secret,
        token_ttl=timedelta(minutes=settings.applicant_token_minutes),
    )
    return SignInOut(
        access_token=session.access_token, expires_in=session.expires_in, application_id=session.application_id
    )


@router.get(
    "/application", response_model=ApplicationOut, summary="My application", responses=problem_responses(401, 403, 404)
)
async def my_application(uow: UoW, principal: Applicant) -> ApplicationOut:
    return await _mine(uow, principal)


@router.patch(
    "/application/form",
    response_model=FormSavedOut,
    summary="Save part of the form as a draft",
    description="Fields are validated one by one; an invalid field is reported in `errors` and nothing is "
    "saved. `null` clears a field. Identity fields are read-only. Saving a completed form takes it back to "
    "`form_in_progress`; the answer says so (`form_reopened`, `notice`).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def patch_form(
    uow: UoW,
    principal: Applicant,
    clock: ClockDep,
    patch: Annotated[dict[str, Any], Body(examples=[_FORM_PATCH_EXAMPLE])],
) -> FormSavedOut:
    saved = await handlers.save_draft(
        handlers.SaveDraft(own_application_id(principal), patch), uow, principal=principal, clock=clock
    )
    return await _saved(uow, principal, saved)


@router.put(
    "/application/security-word",
    response_model=FormSavedOut,
    summary="Set the security word (kept only as a hash)",
    description="Like a draft save, setting it on a completed form reopens the form (`form_reopened`).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def put_security_word(
    body: SecurityWordIn, uow: UoW, principal: Applicant, clock: ClockDep, hasher: Hasher
) -> FormSavedOut:
    saved = await handlers.set_security_word(
        handlers.SetSecurityWord(own_application_id(principal), body.security_word),
        uow,
        principal=principal,
        clock=clock,
        hasher=hasher,
    )
    return await _saved(uow, principal, saved)


@router.post(
    "/application/completion",
    response_model=ApplicationOut,
    summary="Complete the form",
    description="Checks that every required field is there, including the consent to publish the "
    "certificate (signatures can only be verified against the CA's servers if it is published).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def complete(uow: UoW, principal: Applicant, clock: ClockDep) -> ApplicationOut:
    await handlers.complete_form(
        handlers.CompleteForm(own_application_id(principal)), uow, principal=principal, clock=clock
    )
    return await _mine(uow, principal)


@router.get(
    "/application/form.pdf",
    response_class=Response,
    summary="My completed form as a printable PDF",
    responses={**PDF_RESPONSE, **problem_responses(401, 403, 404, 409)},
)
async def my_form_pdf(uow: UoW, principal: Applicant, settings: Settings) -> Response:
    pdf = await handlers.printable_form(
        own_application_id(principal), uow, principal=principal, font_dir=settings.pdf_font_dir
    )
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": 'attachment; filename="nes-basvuru.pdf"'}
    )

"""Issuing invitations and signing applicants in.

The plaintext link token and access password exist only in this process's memory: they are
hashed for our database and sealed with the notifications service's public key for the event
that asks it to send the e-mail. Neither is ever stored, published or logged in the clear.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

from esign import sealing
from esign.auth import Principal, Role, mint_token
from esign.clock import Clock
from esign.events import InvitationIssued
from esign.problems import Conflict, NotFound
from services.applications.adapters.repositories.applications import ContactDetails
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.application import EDITABLE, Status
from services.applications.domain.invitation import (
    InvalidCredentials,
    Invitation,
    IssuedSecrets,
    PasswordHasher,
    SignInRefused,
    hash_token,
)
from services.applications.handlers.applicant import load_visible

APPLICANT_TOKEN_ISSUER = "esign-applications"


@dataclass(frozen=True)
class InvitationPolicy:
    ttl: timedelta
    max_attempts: int
    lockout: timedelta
    notifications_public_key: str
    portal_url: str


def _issued_event(
    inv: Invitation, secrets: IssuedSecrets, *, contact: ContactDetails, policy: InvitationPolicy, reissue: bool
) -> InvitationIssued:
    sealed = sealing.seal(
        policy.notifications_public_key,
        {
            "token": secrets.token,
            "password": secrets.password,
            # The token travels in the fragment: browsers never send it to a server or a log.
            "link": f"{policy.portal_url}#token={secrets.token}",
        },
    )
    return InvitationIssued(
        application_id=inv.application_id,
        institution_id=contact.institution_id,
        institution_name=contact.institution_name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        mobile=contact.mobile,
        expires_at=inv.expires_at,
        reissue=reissue,
        sealed_credentials=sealed,
    )


async def issue_pending(
    uow: ApplicationsUnitOfWork, *, clock: Clock, hasher: PasswordHasher, policy: InvitationPolicy, limit: int
) -> int:
    """Issues up to ``limit`` pending invitations (background worker; replicas share the work)."""
    pending = await uow.invitations.claim_pending(limit)
    if not pending:
        return 0
    now = clock.now()
    # Hashing a batch's passwords is CPU work: off the event loop.
    issued = await asyncio.to_thread(lambda: [inv.issue(hasher, now, policy.ttl) for inv in pending])
    contacts = await uow.applications.contacts([inv.application_id for inv in pending])
    for inv, secrets in zip(pending, issued, strict=True):
        uow.emit(_issued_event(inv, secrets, contact=contacts[inv.application_id], policy=policy, reissue=False))
    await uow.invitations.save_many(pending)
    return len(pending)


@dataclass(frozen=True)
class ReissueInvitation:
    application_id: uuid.UUID


async def reissue(
    command: ReissueInvitation,
    uow: ApplicationsUnitOfWork,
    *,
    principal: Principal,
    clock: Clock,
    hasher: PasswordHasher,
    policy: InvitationPolicy,
) -> Invitation:
    """A new link and password for an applicant; the previous pair stops working at once."""
    app = await load_visible(uow, command.application_id, principal=principal)
    if app.status not in EDITABLE:
        raise Conflict(
            "invitation_not_needed",
            f"The application is {app.status.value}; an invitation is only useful while the form can be filled.",
        )
    inv = await uow.invitations.for_application(app.id)
    if inv is None:
        raise NotFound("invitation")
    secrets = await asyncio.to_thread(inv.issue, hasher, clock.now(), policy.ttl)
    contact = await uow.applications.contact(app.id)
    uow.emit(_issued_event(inv, secrets, contact=contact, policy=policy, reissue=True))
    await uow.invitations.save(inv)
    return inv


@dataclass(frozen=True)
class SignIn:
    token: str
    password: str


@dataclass(frozen=True)
class ApplicantSession:
    access_token: str
    expires_in: int
    application_id: uuid.UUID


async def sign_in(
    cmd: SignIn,
    uow: ApplicationsUnitOfWork,
    *,
    clock: Clock,
    hasher: PasswordHasher,
    policy: InvitationPolicy,
    token_secret: str,
    token_ttl: timedelta,
) -> ApplicantSession:
    inv = await uow.invitations.by_token_hash(hash_token(cmd.token))
    if inv is None:
        # Same answer as a wrong password: the caller learns nothing about which half was wrong.
        raise InvalidCredentials("The link or the access password is not right.")
    app = await uow.applications.get(inv.application_id)
    if app is None or app.status is Status.WITHDRAWN:
        raise InvalidCredentials("The link or the access password is not right.")
    now = clock.now()
    try:
        await asyncio.to_thread(inv.sign_in, cmd.password, hasher, now, policy.max_attempts, policy.lockout)
    except SignInRefused:
        # The failed attempt must count even though the request fails, so it is committed here
        # rather than by the request's unit of work (which rolls back on errors).
        await uow.invitations.save(inv)
        await uow.commit()
        raise
    await uow.invitations.save(inv)
    token = mint_token(
        token_secret,
        subject=f"applicant:{app.id}",
        role=Role.APPLICANT,
        application_id=app.id,
        ttl=token_ttl,
        issuer=APPLICANT_TOKEN_ISSUER,
    )
    return ApplicantSession(access_token=token, expires_in=int(token_ttl.total_seconds()), application_id=app.id)

"""The applications service: app factory and lifespan (runtime, invitation issuer)."""

from __future__ import annotations

import dataclasses
import functools
import secrets
from datetime import timedelta
from pathlib import Path

import structlog
from fastapi import FastAPI

from esign import sealing
from esign.clock import SYSTEM_CLOCK, Clock
from esign.console.api import install_console
from esign.pages import static_page_router
from esign.periodic import PeriodicWorker
from esign.service import (
    ServiceDefinition,
    ServiceRuntime,
    create_service_app,
    token_verifier_from,
)
from services.applications.adapters.console_directory import InstitutionDirectory
from services.applications.adapters.event_mapping import map_domain_event
from services.applications.adapters.hashing import invitation_hasher, security_word_hasher
from services.applications.adapters.orm import messaging
from services.applications.adapters.personal_data import people_codec
from services.applications.adapters.trust import RevocationSource, TrustStore
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.api import (
    applicant,
    applications,
    batches,
    institutions,
    renewal,
    renewal_page,
    roster,
)
from services.applications.api.errors import install_error_handlers
from services.applications.api.problem_texts import TURKISH
from services.applications.config import ApplicationsSettings
from services.applications.consumers import consumer_specs
from services.applications.domain.invitation import PasswordHasher
from services.applications.domain.people_retention import PeopleRetention
from services.applications.handlers.invitations import (
    APPLICANT_TOKEN_ISSUER,
    InvitationPolicy,
    issue_pending,
)
from services.applications.handlers.key_rotation import reencrypt_personal_data
from services.applications.handlers.people_retention import erase_people_past_their_purpose
from services.applications.handlers.renewal import RenewalPolicy, expire_stale_renewals

log = structlog.get_logger("applications")

DEFINITION = ServiceDefinition(
    name="applications",
    tables=messaging,
    migrations_dir=Path(__file__).parent / "migrations",
    uow_class=ApplicationsUnitOfWork,
    event_mapper=map_domain_event,
    consumers=consumer_specs,
    problem_texts=TURKISH,
)
# The page the e-mailed link opens (the default PORTAL_URL): sign in, fill the form, print it.
APPLICANT_PAGE = static_page_router(
    "/apply",
    Path(__file__).parent / "static",
    "basvuru",
    title="E-imza başvurusu (applicant page)",
    tags=["applicant page"],
)

DESCRIPTION = """
First applications for qualified e-signature (NES) certificates: institutions and their NES
officers, staff lists, invitations, the application form and its printable PDF, the signed
paper's arrival, batches forwarded to the CA, rejection and production, the courier's progress
(from the tracking service's events) and the expiry warnings the holder was sent (from the
notifications service's events). Errors are RFC 9457 problem details.

The link in the invitation e-mail opens the applicant's page, `/apply`, served here: a Turkish
page that signs in with the link token and access password and drives the `/v1/applicant` API.

It also hosts the staff console (`/console/`) and its sign-in (`/auth/*`): OpenID Connect with
PKCE to the configured identity provider, or a local sign-in page when none is configured;
server-side sessions behind an HttpOnly cookie, turned into bearer tokens for the staff APIs by
the proxy's session check (docs/console.md).
"""


def renewal_policy_from(settings: ApplicationsSettings, *, token_secret: str, public_key: str) -> RenewalPolicy:
    if settings.renewal_trust_dir is None:
        log.warning("renewal_trust_dir_unset", detail="no card certificate is trusted; renewals are refused")
    return RenewalPolicy(
        origin=settings.public_origin.rstrip("/"),
        trust=TrustStore(
            settings.renewal_trust_dir, settings.renewal_crl_dir, RevocationSource(settings.renewal_revocation)
        ),
        window=timedelta(days=settings.renewal_window_days),
        challenge_ttl=timedelta(seconds=settings.renewal_challenge_seconds),
        session_ttl=timedelta(minutes=settings.renewal_session_minutes),
        token_secret=token_secret,
        form_ttl=timedelta(days=settings.renewal_form_days),
        form_url=settings.renewal_form_url,
        notifications_public_key=public_key,
        font_dir=settings.pdf_font_dir,
        tsa_url=settings.renewal_tsa_url,
        draft_ttl=timedelta(days=settings.renewal_draft_days),
        form_grace=timedelta(days=settings.renewal_form_grace_days),
    )


class Workers:
    """The service's background work (tests call its steps through ``app.state.workers``): the
    invitation issuer, woken by a staff list's commit (``wake_invitation_issuer``), renewals gone
    stale, and re-encryption after a key rotation."""

    def __init__(
        self,
        *,
        runtime: ServiceRuntime[ApplicationsUnitOfWork, Workers],
        settings: ApplicationsSettings,
        hasher: PasswordHasher,
        policy: InvitationPolicy,
        renewals: RenewalPolicy,
        clock: Clock,
    ) -> None:
        self.runtime, self.settings, self.hasher, self.policy, self.renewals, self.clock = (
            runtime,
            settings,
            hasher,
            policy,
            renewals,
            clock,
        )
        # As fast as hashing allows while there is work; woken by the upload's commit.
        self.issuer = PeriodicWorker(
            "invitation-issuer", self.issue_invitations, interval=1.0, lanes=self.settings.invitation_issuer_lanes
        )

    def uow(self) -> ApplicationsUnitOfWork:
        return self.runtime.uow()

    def wake_invitation_issuer(self) -> None:
        self.issuer.wake()

    async def issue_invitations(self) -> int:
        async with self.uow() as uow:
            issued = await issue_pending(
                uow,
                clock=self.clock,
                hasher=self.hasher,
                policy=self.policy,
                limit=self.settings.invitation_issue_batch,
            )
            await uow.commit()
        return issued

    async def reencrypt(self) -> int:
        async with self.uow() as uow:
            return await reencrypt_personal_data(uow)

    async def erase_people(self) -> int:
        rules = PeopleRetention(
            without_certificate=timedelta(days=self.settings.people_keep_days_without_certificate),
            after_certificate=timedelta(days=self.settings.people_keep_days_after_certificate),
        )
        async with self.uow() as uow:
            return await erase_people_past_their_purpose(uow, clock=self.clock, rules=rules)

    async def expire_renewals(self) -> int:
        async with self.uow() as uow:
            expired = await expire_stale_renewals(uow, clock=self.clock, policy=self.renewals)
            await uow.commit()
        return expired

    def start(self) -> None:
        self.runtime.spawn(self.issuer.run(), "invitation-issuer")
        self.runtime.spawn(PeriodicWorker("renewal-expiry", self.expire_renewals, interval=300).run(), "renewal-expiry")
        rotation = PeriodicWorker(
            "personal-data-reencryption", self.reencrypt, self.settings.retention_interval_seconds
        )
        self.runtime.spawn(rotation.run(), "personal-data-reencryption")
        erasure = PeriodicWorker("people-erasure", self.erase_people, self.settings.retention_interval_seconds)
        self.runtime.spawn(erasure.run(), "people-erasure")


def create_app(settings: ApplicationsSettings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or ApplicationsSettings()
    applicant_secret = settings.applicant_token_secret.get_secret_value() if settings.applicant_token_secret else None
    if applicant_secret is None:
        log.warning("applicant_token_secret_unset", detail="random per process; applicant sessions end on restart")
        applicant_secret = secrets.token_urlsafe(32)
    public_key = settings.notifications_public_key
    if public_key is None:
        log.warning(
            "notifications_public_key_unset", detail="invitation secrets sealed with a throwaway key nobody holds"
        )
        public_key = sealing.generate_keypair()[1]
    hasher = invitation_hasher(settings)
    # The TC Kimlik No and birth date are encrypted at rest: every unit of work carries the codec.
    uow_class = functools.partial(ApplicationsUnitOfWork, codec=people_codec(settings))
    definition = dataclasses.replace(DEFINITION, uow_class=uow_class)
    renewals = renewal_policy_from(settings, token_secret=applicant_secret, public_key=public_key)
    policy = InvitationPolicy(
        ttl=timedelta(days=settings.invitation_days),
        max_attempts=settings.sign_in_max_attempts,
        lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
        notifications_public_key=public_key,
        portal_url=settings.portal_url,
    )

    def workers(runtime: ServiceRuntime[ApplicationsUnitOfWork, Workers]) -> Workers:
        return Workers(runtime=runtime, settings=settings, hasher=hasher, policy=policy, renewals=renewals, clock=clock)

    verifier = token_verifier_from(settings, **{APPLICANT_TOKEN_ISSUER: applicant_secret})
    app = create_service_app(
        definition,
        settings,
        title="esign applications",
        description=DESCRIPTION,
        routers=[
            institutions.router,
            roster.router,
            applications.router,
            batches.router,
            applicant.router,
            renewal.router,
            APPLICANT_PAGE,
            renewal_page.ROUTER,
        ],
        token_verifier=verifier,
        workers=workers,
        clock=clock,
    )
    install_console(
        app,
        settings,
        oidc_issuer=settings.oidc_issuer,
        audience=settings.jwt_audience,
        local_token_secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        verifier=verifier,
        institutions=InstitutionDirectory(lambda: app.state.runtime.uow()),
        jetstream=lambda: app.state.runtime.js,
        clock=clock.now,
    )
    app.state.hasher = security_word_hasher(settings)
    app.state.invitation_hasher = hasher
    app.state.invitation_policy = policy
    app.state.applicant_token_secret = applicant_secret
    app.state.renewal_policy = renewals
    install_error_handlers(app)
    return app

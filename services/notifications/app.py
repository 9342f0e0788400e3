"""The notifications service: app factory and lifespan (runtime, delivery worker, reminder scheduler)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import structlog
from fastapi import FastAPI

from esign.clock import SYSTEM_CLOCK, Clock
from esign.periodic import PeriodicWorker
from esign.service import (
    ServiceDefinition,
    ServiceRuntime,
    create_service_app,
    token_verifier_from,
)
from services.notifications.adapters.email import SmtpConfig, SmtpSender
from services.notifications.adapters.orm import messaging
from services.notifications.adapters.sms import (
    HttpSmsProvider,
    SinkSmsProvider,
    SmsProvider,
)
from services.notifications.adapters.templates import Renderer
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.api import deliveries, templates
from services.notifications.config import NotificationsSettings, SmsProviderKind
from services.notifications.consumers import consumer_specs
from services.notifications.domain.delivery import RetryPolicy
from services.notifications.handlers.reminders import ReminderPolicy, ReminderScheduler
from services.notifications.handlers.retention import mask_old_deliveries
from services.notifications.handlers.sending import (
    DeliveryWorker,
    SendingPolicy,
)

log = structlog.get_logger("notifications")

DEFINITION = ServiceDefinition(
    name="notifications",
    tables=messaging,
    migrations_dir=Path(__file__).parent / "migrations",
    uow_class=NotificationsUnitOfWork,
    consumers=consumer_specs,
)

DESCRIPTION = """
E-mail and SMS for every step of a certificate's life (invitation with link and password, form
completed, rejected, forwarded, produced, the courier's progress), expiry reminders before a
certificate ends (linking to the renewal page), the renewal's steps (e-approval received, the
Renewal Form to approve, its approval) and weekly digests for NES officers. Operators read the delivery log, resend
failed and dead messages and preview templates. Errors are RFC 9457 problem details.
"""


def sms_provider(settings: NotificationsSettings) -> SmsProvider:
    if settings.sms_provider is SmsProviderKind.HTTP:
        if not settings.sms_http_url:
            raise ValueError("ESIGN_NOTIFICATIONS_SMS_HTTP_URL is required with sms_provider=http")
        password = settings.sms_http_password.get_secret_value() if settings.sms_http_password else None
        return HttpSmsProvider(
            settings.sms_http_url,
            username=settings.sms_http_username,
            password=password,
            timeout=settings.sms_http_timeout,
        )
    return SinkSmsProvider(settings.sms_sink_dir)


def delivery_worker(
    runtime: ServiceRuntime[NotificationsUnitOfWork, Workers], settings: NotificationsSettings, *, clock: Clock
) -> DeliveryWorker:
    """The delivery worker as configured (tests build extra replicas with it)."""
    private_key = settings.seal_private_key.get_secret_value() if settings.seal_private_key else None
    smtp_password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    mailer = SmtpSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=smtp_password,
            timeout=settings.smtp_timeout,
        )
    )
    policy = SendingPolicy(
        mail_from=settings.mail_from,
        sms_originator=settings.sms_originator,
        seal_private_key=private_key,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        batch=settings.delivery_batch,
        retry=RetryPolicy(
            settings.delivery_max_attempts,
            timedelta(seconds=settings.delivery_backoff_seconds),
            timedelta(seconds=settings.delivery_backoff_cap_seconds),
        ),
    )
    return DeliveryWorker(
        runtime.uow,
        renderer=Renderer(renewal_page_url=settings.renewal_page_url),
        mailer=mailer,
        sms=sms_provider(settings),
        policy=policy,
        clock=clock,
    )


class Workers:
    """The service's background work (tests reach it through ``app.state.workers``): the delivery
    worker, woken after a commit that recorded deliveries (``wake_sender``: consumed events,
    reminders, an operator's resend), the reminder scheduler and the masking of old deliveries."""

    def __init__(
        self,
        *,
        runtime: ServiceRuntime[NotificationsUnitOfWork, Workers],
        settings: NotificationsSettings,
        reminders: ReminderPolicy,
    ) -> None:
        self.runtime, self.settings = runtime, settings
        self.delivery = delivery_worker(runtime, settings, clock=runtime.clock)
        # Sends at once after a commit that recorded deliveries, else every delivery_poll_seconds.
        self.sending = PeriodicWorker("delivery-worker", self.delivery.run_once, settings.delivery_poll_seconds)
        self.reminders = ReminderScheduler(runtime.uow, reminders, clock=runtime.clock, wake_sender=self.wake_sender)

    def wake_sender(self) -> None:
        self.sending.wake()

    async def remind(self) -> int:
        await self.reminders.run_once()
        return 0  # one pass does all that is due; the next one after the interval

    async def mask_delivery_log(self) -> int:
        async with self.runtime.uow() as uow:
            return await mask_old_deliveries(
                uow, clock=self.runtime.clock, keep=timedelta(days=self.settings.delivery_log_keep_days)
            )

    def start(self) -> None:
        settings, spawn = self.settings, self.runtime.spawn
        spawn(self.sending.run(), "delivery-worker")
        masking = PeriodicWorker("delivery-log-masking", self.mask_delivery_log, settings.retention_interval_seconds)
        spawn(masking.run(), "delivery-log-masking")
        spawn(
            PeriodicWorker("reminder-scheduler", self.remind, settings.scheduler_interval_seconds).run(),
            "reminder-scheduler",
        )


def create_app(settings: NotificationsSettings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or NotificationsSettings()
    if settings.seal_private_key is None:
        log.warning("seal_private_key_unset", detail="invitation e-mails cannot be sent; they will fail")
    sms_provider(settings)  # a misconfigured provider stops the start, not the first SMS
    reminders = ReminderPolicy(
        steps=settings.reminder_steps,
        digest_period=settings.digest_period,
        digest_window=timedelta(days=settings.digest_window_days),
        default_locale=settings.default_locale,
    )

    def workers(runtime: ServiceRuntime[NotificationsUnitOfWork, Workers]) -> Workers:
        return Workers(runtime=runtime, settings=settings, reminders=reminders)

    app = create_service_app(
        DEFINITION,
        settings,
        title="esign notifications",
        description=DESCRIPTION,
        routers=[deliveries.router, templates.router],
        token_verifier=token_verifier_from(settings),
        workers=workers,
        clock=clock,
    )
    app.state.renderer = Renderer(renewal_page_url=settings.renewal_page_url)
    return app

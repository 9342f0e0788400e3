"""Expiry reminders and officer digests, decided by a scheduler that every replica may run.

Each certificate due for a step is locked (``FOR UPDATE SKIP LOCKED``) by one scheduler, which
records the decision under the unique key (certificate, step), records the deliveries and emits
``expiry_warned`` in the same transaction: a step is decided once, whatever the restarts and
replicas. Digests are keyed (institution, period) the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from esign.clock import Clock
from esign.events import ExpiryWarned
from esign.masking import mask_email
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.domain.delivery import Channel, NewDelivery
from services.notifications.domain.reminders import (
    DigestPeriod,
    days_left,
    due_reminder,
)
from services.notifications.handlers.sending import delivery_uuid

log = structlog.get_logger("notifications.reminders")


@dataclass(frozen=True, kw_only=True)
class ReminderPolicy:
    steps: tuple[int, ...]
    digest_period: DigestPeriod
    digest_window: timedelta
    default_locale: str
    batch: int = 500  # certificates decided per transaction


@dataclass
class SchedulerRun:
    warned: int = 0
    skipped: int = 0
    digests: int = 0


class ReminderScheduler:
    def __init__(
        self,
        uow_factory: Callable[[], NotificationsUnitOfWork],
        policy: ReminderPolicy,
        *,
        clock: Clock,
        wake_sender: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow_factory
        self._policy = policy
        self._clock = clock
        self._wake_sender = wake_sender

    async def run_once(self) -> SchedulerRun:
        """Decides every step due at the clock's now, and the digests of its period."""
        now = self._clock.now()
        run = SchedulerRun()
        after: tuple[datetime, uuid.UUID] | None = None
        while (after := await self._warn_batch(now, run, after=after)) is not None:
            pass
        run.digests = await self._digests(now)
        if run.warned or run.digests:
            log.info("reminders_decided", warned=run.warned, skipped=run.skipped, digests=run.digests)
        return run

    async def _warn_batch(
        self, now: datetime, run: SchedulerRun, *, after: tuple[datetime, uuid.UUID] | None
    ) -> tuple[datetime, uuid.UUID] | None:
        """Decides one batch of the due certificates behind ``after``; returns where the next
        batch starts, None when none was left."""
        async with self._uow() as uow:
            certificates = await uow.certificates.claim_due(now, self._policy.steps, self._policy.batch, after=after)
            recorded = await uow.certificates.recorded_steps([cert.id for cert in certificates])
            due_now = {
                cert.id: due
                for cert in certificates
                if (due := due_reminder(cert.not_after, steps=self._policy.steps, now=now, recorded=recorded[cert.id]))
                is not None
            }
            decided_ids = await uow.certificates.record_reminders(
                [(cert_id, due.days_before, due.skipped) for cert_id, due in due_now.items()], now
            )
            deliveries: list[NewDelivery] = []
            for cert in certificates:
                if cert.id not in decided_ids:
                    continue
                due = due_now[cert.id]
                run.warned += 1
                run.skipped += len(due.skipped)
                source = delivery_uuid("expiry", cert.id, due.days_before)
                context = {
                    "first_name": cert.first_name,
                    "last_name": cert.last_name,
                    "days_before": due.days_before,
                    "not_after": cert.not_after.isoformat(),
                    "certificate_serial": cert.serial,
                }
                deliveries += [
                    NewDelivery(
                        source_event_id=source,
                        channel=channel,
                        recipient=to,
                        template="expiry_warning",
                        locale=cert.locale,
                        context=context,
                        application_id=cert.application_id,
                        institution_id=cert.institution_id,
                    )
                    for channel, to in ((Channel.EMAIL, cert.email), (Channel.SMS, cert.mobile))
                    if to
                ]
                uow.emit(
                    ExpiryWarned(
                        application_id=cert.application_id,
                        institution_id=cert.institution_id,
                        holder_id=cert.holder_id,
                        certificate_serial=cert.serial,
                        not_after=cert.not_after,
                        days_before=due.days_before,
                        warned_at=now,
                    ),
                    event_id=source,
                )
            await uow.deliveries.enqueue(deliveries)
            decided = len(decided_ids)
            if decided:
                uow.after_commit(self._wake_sender)
            await uow.commit()
        # The next batch starts behind this one: a certificate claimed but not decided (none of its
        # steps due after all) is not claimed again in this sweep.
        return (certificates[-1].not_after, certificates[-1].id) if certificates else None

    async def _digests(self, now: datetime) -> int:
        period = self._policy.digest_period.key(now)
        until = now + self._policy.digest_window
        async with self._uow() as uow:
            # The sweep runs daily and a digest is weekly: ask once which institutions are still
            # owed one (staff expiring, officers known, not sent this period), and load the
            # certificates of those only, instead of every expiring certificate every day.
            owed = await uow.directory.institutions_with_officers(
                list(await uow.certificates.institutions_expiring(now, until))
            )
            owed -= await uow.digests.sent_in(period)
        sent = 0
        for institution_id in sorted(owed):
            async with self._uow() as uow:
                certs = await uow.certificates.expiring(now, until, institution_id)
                officers = await uow.directory.officers_of(institution_id)
                claimed = await uow.digests.claim(institution_id, period=period, holders=len(certs), at=now)
                if not officers or not claimed:
                    continue
                name = await uow.directory.institution_name(institution_id) or ""
                holders = [
                    {
                        "name": f"{c.first_name} {c.last_name}",
                        "email": mask_email(c.email),
                        "not_after": c.not_after.isoformat(),
                        "days_left": days_left(c.not_after, now),
                    }
                    for c in certs
                ]
                source = delivery_uuid("digest", institution_id, period)
                await uow.deliveries.enqueue(
                    [
                        NewDelivery(
                            source_event_id=source,
                            channel=Channel.EMAIL,
                            recipient=officer.email,
                            template="officer_digest",
                            locale=self._policy.default_locale,
                            context={
                                "officer_name": officer.full_name,
                                "institution_name": name,
                                "period": period,
                                "window_days": self._policy.digest_window.days,
                                "holders": holders,
                            },
                            institution_id=institution_id,
                        )
                        for officer in officers
                    ]
                )
                uow.after_commit(self._wake_sender)
                await uow.commit()
                sent += 1
        return sent

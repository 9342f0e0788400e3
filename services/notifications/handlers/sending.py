"""The delivery worker: takes due deliveries, renders them, hands them to SMTP or the SMS
provider, and records the outcome. Several replicas may run it: a delivery is claimed with
``FOR UPDATE SKIP LOCKED`` and a lease (``next_attempt_at`` pushed forward), so each attempt is
made by one worker.

When the database fails just after the provider accepted a message (PostgreSQL died or
restarts), the process still knows the outcome: it keeps it in memory, sends nothing more, and
at each later pass first records what it kept and gives back the rest of its batch unattempted.
Only then does it claim again. So a database outage shorter than the lease sends nothing twice,
and the rest of the batch goes out as soon as the database is back, not after the lease.

The one window no design closes: the provider accepted the message and the process died before
the outcome was committed. The lease then runs out and the message is sent again. It is kept
small (the outcome is written right after the provider's answer, in its own short transaction)
and made recognisable: an e-mail keeps its Message-ID across attempts, an SMS its reference.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from nacl.exceptions import CryptoError
from prometheus_client import Counter

from esign import sealing
from esign.clock import Clock
from esign.masking import mask_contacts_in
from services.notifications.adapters.email import SmtpSender, build_message
from services.notifications.adapters.repositories.deliveries import ClaimedDelivery
from services.notifications.adapters.sms import SmsMessage, SmsProvider
from services.notifications.adapters.templates import Renderer, TemplateMissing
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.domain.catalogue import TEMPLATES
from services.notifications.domain.delivery import (
    Channel,
    Outcome,
    PermanentSendError,
    RetryPolicy,
    SendError,
    Sent,
    TransientSendError,
    outcome_of,
)

log = structlog.get_logger("notifications.sending")

ATTEMPTS = Counter("esign_notifications_attempts_total", "Delivery attempts", ["channel", "outcome"])


@dataclass(frozen=True, kw_only=True)
class SendingPolicy:
    mail_from: str
    sms_originator: str
    seal_private_key: str | None
    lease: timedelta
    batch: int
    retry: RetryPolicy


@dataclass(frozen=True, kw_only=True)
class KeptOutcome:
    """An attempt's outcome the database could not take when it was known."""

    delivery_id: uuid.UUID
    attempt: int
    outcome: Outcome
    at: datetime


class DeliveryWorker:
    def __init__(
        self,
        uow_factory: Callable[[], NotificationsUnitOfWork],
        *,
        renderer: Renderer,
        mailer: SmtpSender,
        sms: SmsProvider,
        policy: SendingPolicy,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._renderer = renderer
        self._mailer = mailer
        self._sms = sms
        self._policy = policy
        self._clock = clock  # claims, leases and retry times
        # What the database owes: outcomes known but not recorded, claims not attempted. At most
        # one batch, since nothing new is claimed before they are written.
        self._kept: list[KeptOutcome] = []
        self._unattempted: list[tuple[uuid.UUID, int]] = []

    async def run_once(self) -> int:
        """Records what an earlier pass could not, then claims one batch and makes one attempt at
        each; returns how many were attempted. Raises while the database cannot be reached."""
        await self._record_kept()
        claimed_at = self._clock.now()
        async with self._uow() as uow:
            claimed = await uow.deliveries.claim(claimed_at, self._policy.lease, self._policy.batch)
            await uow.commit()
        for i, row in enumerate(claimed):
            if self._clock.now() - claimed_at > self._policy.lease / 2:
                # Slow servers ate half the lease: hand the rest back rather than risk starting a
                # send that another replica may also start once the lease runs out.
                async with self._uow() as uow:
                    await uow.deliveries.release([(r.id, r.attempts) for r in claimed[i:]], self._clock.now())
                    await uow.commit()
                return i
            if not await self._attempt(row):
                # The database is gone: sending more would only add outcomes we cannot record.
                self._unattempted = [(r.id, r.attempts) for r in claimed[i + 1 :]]
                return i + 1
        return len(claimed)

    async def _record_kept(self) -> None:
        if not self._kept and not self._unattempted:
            return
        async with self._uow() as uow:
            recorded = [
                await uow.deliveries.finish(k.delivery_id, attempt=k.attempt, outcome=k.outcome, at=k.at)
                for k in self._kept
            ]
            await uow.deliveries.release(self._unattempted, self._clock.now())
            await uow.commit()
        for kept, was_recorded in zip(self._kept, recorded, strict=True):
            log.info(
                "delivery_outcome_recorded_late",
                delivery_id=str(kept.delivery_id),
                attempt=kept.attempt,
                status=kept.outcome.status.value,
                recorded=was_recorded,
            )
        if self._unattempted:
            log.info("deliveries_given_back", count=len(self._unattempted))
        self._kept, self._unattempted = [], []

    async def _attempt(self, row: ClaimedDelivery) -> bool:
        """Sends one delivery and records the outcome; False if the outcome had to be kept for
        later because the database failed."""
        try:
            result: Sent | SendError = await self._send(row)
        except SendError as exc:
            result = exc
        except (TemplateMissing, KeyError, ValueError, TypeError) as exc:
            # Rendering cannot succeed on a retry: the template or its data is wrong.
            result = PermanentSendError(f"cannot render: {type(exc).__name__}: {str(exc)[:200]}", code="render")
        except Exception as exc:  # noqa: BLE001 - anything unforeseen counts as transient, so it ends dead rather than looping
            log.error("delivery_unexpected_error", delivery_id=str(row.id), error=type(exc).__name__)
            result = TransientSendError(f"unexpected {type(exc).__name__}", code="unexpected")
        now = self._clock.now()
        outcome = outcome_of(result, attempts=row.attempts, now=now, policy=self._policy.retry)
        if outcome.error:  # servers like to echo the address they refused
            outcome = dataclasses.replace(outcome, error=mask_contacts_in(outcome.error))
        ATTEMPTS.labels(row.channel, outcome.status.value).inc()
        try:
            async with self._uow() as uow:
                recorded = await uow.deliveries.finish(row.id, attempt=row.attempts, outcome=outcome, at=now)
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 -- whatever the database's failure, the outcome must not be lost
            self._kept.append(KeptOutcome(delivery_id=row.id, attempt=row.attempts, outcome=outcome, at=now))
            log.warning(
                "delivery_outcome_kept",
                delivery_id=str(row.id),
                channel=row.channel,
                attempt=row.attempts,
                status=outcome.status.value,
                error=type(exc).__name__,
            )
            return False
        log.info(
            "delivery_attempted",
            delivery_id=str(row.id),
            channel=row.channel,
            template=row.template,
            attempt=row.attempts,
            status=outcome.status.value,
            error=outcome.error,
            recorded=recorded,
        )
        return True

    def _context(self, row: ClaimedDelivery) -> dict:
        context = dict(row.context)
        if row.sealed_secret:
            if not self._policy.seal_private_key:
                raise PermanentSendError("seal_private_key is not configured", code="no_seal_key")
            try:
                secrets = sealing.unseal(self._policy.seal_private_key, row.sealed_secret)
            except (CryptoError, ValueError) as exc:
                raise PermanentSendError("sealed credentials cannot be opened with our key", code="unseal") from exc
            spec = TEMPLATES.get(row.template)
            context.update({k: secrets[k] for k in (spec.secret_fields if spec else ())})
        return context

    async def _send(self, row: ClaimedDelivery) -> Sent:
        context = self._context(row)
        if row.channel == Channel.EMAIL:
            rendered = self._renderer.email(row.template, row.locale, context)
            name = context.get("officer_name") or " ".join(
                filter(None, (context.get("first_name"), context.get("last_name")))
            )
            message = build_message(
                row.id,
                mail_from=self._policy.mail_from,
                to_name=name or None,
                to_address=row.recipient,
                rendered=rendered,
                locale=row.locale,
            )
            return await self._mailer.send(message)
        rendered_sms = self._renderer.sms(row.template, row.locale, context)
        return await self._sms.send(
            SmsMessage(
                delivery_id=row.id, to=row.recipient, text=rendered_sms.text, originator=self._policy.sms_originator
            )
        )


def delivery_uuid(*parts: object) -> uuid.UUID:
    """A stable id for a message the service itself decides to send (a reminder step, a digest),
    so the decision and its deliveries share one key."""
    return uuid.uuid5(_NAMESPACE, ":".join(map(str, parts)))


_NAMESPACE = uuid.UUID("0c7a3d52-6f1e-4f59-9d0e-6a1f3e9b8c21")

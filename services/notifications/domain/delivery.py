"""A delivery: one message to one recipient over one channel, and the rules of its life.

queued -> sent                      the provider accepted it
queued -> queued (later)            a transient failure (server down, timeout, 5xx): retried with backoff
queued -> dead                      transient failures until the attempts ran out
queued -> failed                    a permanent failure (bad address, invalid number): never retried
failed/dead -> queued               an operator resends it
"""

from __future__ import annotations

import enum
import random
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"  # never sent: the person was erased first (applications.person.erased)


RESENDABLE = frozenset({DeliveryStatus.FAILED, DeliveryStatus.DEAD})


@dataclass(frozen=True, kw_only=True)
class DeliveryRecord:
    """A stored delivery as the delivery log shows it (the repository's answer, so no layer above
    the adapters reads table rows). The recipient is in clear here: the API masks it."""

    id: uuid.UUID
    source_event_id: uuid.UUID
    channel: Channel
    template: str
    locale: str
    recipient: str
    status: DeliveryStatus
    attempts: int
    resends: int
    provider_ref: str | None
    last_error: str | None
    application_id: uuid.UUID | None
    institution_id: uuid.UUID | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    contact_masked_at: datetime | None = None  # retention masked the stored recipient: not resendable


class SendError(Exception):
    """A provider refused or could not be reached. ``permanent``: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class TransientSendError(SendError):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, permanent=False, code=code)


class PermanentSendError(SendError):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, permanent=True, code=code)


@dataclass(frozen=True)
class Sent:
    provider_ref: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits a random time up to base * 2**(n-1),
    capped; after ``max_attempts`` transient failures the delivery is dead."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def next_attempt(self, attempts: int, now: datetime, rand: Callable[[], float] = random.random) -> datetime | None:
        """When to try again after ``attempts`` failed tries, or None: give up."""
        if attempts >= self.max_attempts:
            return None
        ceiling = min(self.cap, self.base * (2 ** (attempts - 1)))
        # At least half the ceiling, so a burst of failures never retries at once.
        return now + ceiling * (0.5 + rand() / 2)


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    _: KW_ONLY
    next_attempt_at: datetime | None = None
    provider_ref: str | None = None
    error: str | None = None


def outcome_of(result: Sent | SendError, *, attempts: int, now: datetime, policy: RetryPolicy) -> Outcome:
    if isinstance(result, Sent):
        return Outcome(DeliveryStatus.SENT, provider_ref=result.provider_ref)
    error = f"{result.code + ': ' if result.code else ''}{result}"[:500]
    if result.permanent:
        return Outcome(DeliveryStatus.FAILED, error=error)
    retry_at = policy.next_attempt(attempts, now)
    if retry_at is None:
        return Outcome(DeliveryStatus.DEAD, error=error)
    return Outcome(DeliveryStatus.QUEUED, next_attempt_at=retry_at, error=error)


@dataclass(frozen=True, kw_only=True)
class NewDelivery:
    """A message to send, as the event handlers and the scheduler record it."""

    source_event_id: uuid.UUID
    channel: Channel
    recipient: str
    template: str
    locale: str
    context: dict
    application_id: uuid.UUID | None = None
    institution_id: uuid.UUID | None = None
    sealed_secret: str | None = None

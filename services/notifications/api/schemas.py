"""Response bodies of the notifications API. Recipients leave masked."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from esign.masking import mask_recipient
from services.notifications.domain.delivery import Channel, DeliveryRecord, DeliveryStatus


class DeliveryOut(BaseModel):
    id: uuid.UUID
    source_event_id: uuid.UUID = Field(description="The event (or reminder/digest decision) that called for it.")
    channel: Channel
    template: str
    locale: str
    recipient: str = Field(description="Masked: `a***@ornek.edu.tr`, `+90 5** *** ** 67`.")
    contact_masked_at: datetime | None = Field(
        None, description="When retention masked the stored recipient too (it can no longer be resent)."
    )
    status: DeliveryStatus
    attempts: int = Field(description="Attempts since it was (re)queued.")
    resends: int = Field(description="Times an operator re-queued it.")
    provider_ref: str | None = Field(description="SMTP Message-ID and answer, or the SMS provider's job id.")
    last_error: str | None
    application_id: uuid.UUID | None
    institution_id: uuid.UUID | None
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="For queued deliveries: when the next attempt may start.")
    sent_at: datetime | None

    @classmethod
    def of(cls, delivery: DeliveryRecord) -> DeliveryOut:
        fields = dataclasses.asdict(delivery)
        return cls(
            **{k: fields[k] for k in cls.model_fields if k not in {"recipient", "next_attempt_at"}},
            # Already masked in storage once retention has passed over it.
            recipient=delivery.recipient if delivery.contact_masked_at else mask_recipient(delivery.recipient),
            next_attempt_at=delivery.next_attempt_at if delivery.status is DeliveryStatus.QUEUED else None,
        )


class DeliveryPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DeliveryOut]


class TemplateOut(BaseModel):
    name: str
    channels: list[Channel]
    locales: list[str]


class SmsPreview(BaseModel):
    text: str
    encoding: str = Field(description="gsm7, gsm7-turkish (national single shift) or ucs2.")
    units: int = Field(description="Septets (GSM) or UTF-16 code units (UCS-2).")
    segments: int


class EmailPreview(BaseModel):
    subject: str
    text: str
    html: str


class PreviewOut(BaseModel):
    template: str
    locale: str
    channel: Channel
    email: EmailPreview | None = None
    sms: SmsPreview | None = None

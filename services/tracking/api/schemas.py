"""Request and response bodies of the tracking API. Operator listings show the recipient's name
(the support desk needs it) and a masked mobile; the public query shows no personal data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from esign.masking import mask_mobile
from services.tracking.adapters.repositories.shipments import ShipmentRecord
from services.tracking.domain.shipment import Status

STATUS_LABELS_TR = {
    Status.CREATED: "Gönderi oluşturuldu",
    Status.HANDED_TO_COURIER: "Kargoya verildi",
    Status.IN_TRANSIT: "Transfer sürecinde",
    Status.OUT_FOR_DELIVERY: "Dağıtıma çıktı",
    Status.DELIVERED: "Teslim edildi",
    Status.DELIVERY_FAILED: "Teslim edilemedi",
    Status.RETURNED: "Göndericiye iade edildi",
}


class ShipmentQueryIn(BaseModel):
    tracking_number: str = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9\- ]+$", examples=["SIM0123456789"])
    mobile_last4: str = Field(
        pattern=r"^[0-9]{4}$", description="Last four digits of the recipient's mobile number.", examples=["4567"]
    )


class PublicStepOut(BaseModel):
    status: Status
    label: str = Field(description="The status in Turkish, for display.")
    occurred_at: datetime


class ShipmentQueryOut(BaseModel):
    tracking_number: str
    status: Status
    status_label: str
    destination_city: str
    timeline: list[PublicStepOut]


class ShipmentOut(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    institution_id: uuid.UUID
    carrier: str
    carrier_name: str | None = Field(description="What the holder is told; null for shipments made before it existed.")
    attempt: int = Field(description="1 for the first shipment, 2 when a returned parcel was shipped again, ...")
    previous_shipment_id: uuid.UUID | None = Field(description="The returned shipment this one ships again.")
    tracking_number: str | None = Field(description="Null until the carrier has registered the parcel.")
    status: Status
    status_at: datetime | None
    recipient_name: str | None = Field(description="Null once removed after delivery (docs/personal-data.md).")
    mobile_masked: str | None = Field(examples=["+90 5** *** ** 67"], description="Null once removed after delivery.")
    recipient_erased_at: datetime | None = Field(
        None, description="When the recipient's name, mobile and address were removed (retention)."
    )
    city: str
    contents: dict[str, Any]
    handed_over_at: datetime | None
    stuck_flagged_at: datetime | None
    registration_attempts: int
    last_error: str | None
    created_at: datetime

    @classmethod
    def of(cls, shipment: ShipmentRecord) -> ShipmentOut:
        return cls(
            id=shipment.id,
            application_id=shipment.application_id,
            institution_id=shipment.institution_id,
            carrier=shipment.carrier,
            carrier_name=shipment.carrier_name,
            attempt=shipment.attempt,
            previous_shipment_id=shipment.previous_shipment_id,
            tracking_number=shipment.tracking_number,
            status=shipment.status,
            status_at=shipment.status_at,
            recipient_name=shipment.recipient_name,
            mobile_masked=mask_mobile(shipment.mobile) if shipment.mobile else None,
            recipient_erased_at=shipment.recipient_erased_at,
            city=shipment.city,
            contents=shipment.contents,
            handed_over_at=shipment.handed_over_at,
            stuck_flagged_at=shipment.stuck_flagged_at,
            registration_attempts=shipment.registration_attempts,
            last_error=shipment.last_error,
            created_at=shipment.created_at,
        )


class ShipmentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ShipmentOut]


class TimelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    status: Status
    occurred_at: datetime
    location: str | None


class CarrierEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    carrier_event_id: str
    carrier_status: str
    status: Status | None = Field(description="Normalised; null when the carrier's word is unknown.")
    occurred_at: datetime
    received_at: datetime
    outcome: str = Field(description="applied, stale, not_forward, unknown_status or unknown_shipment.")
    raw: dict[str, Any] = Field(description="The carrier's report, verbatim.")


class ShipmentDetailOut(ShipmentOut):
    delivery_address: dict[str, Any] | None = Field(description="Null once removed after delivery.")
    timeline: list[TimelineOut]
    carrier_events: list[CarrierEventOut]


class WebhookAccepted(BaseModel):
    outcome: str = Field(
        description="applied, stale, not_forward, duplicate, unknown_status or unknown_shipment. "
        "All are final: the carrier should not resend."
    )


class AdvanceIn(BaseModel):
    status: Status | None = Field(
        None, description="Report this status instead of the next one (e.g. delivery_failed)."
    )
    reason: str | None = Field(None, max_length=200)


class AdvanceOut(BaseModel):
    tracking_number: str
    status: Status
    outcome: str

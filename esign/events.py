"""Event contracts shared by the services: the envelope and every event's versioned schema.

An event's *type* is also its NATS subject (``<producer>.<entity>.<what happened>``), so the
stream of a producer is ``<producer>.>``. A schema change that breaks consumers gets a new
``version``; consumers accept the versions they know and dead-letter the rest.
Personal data rule: no TC Kimlik No and no birth date in any event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Base for an event's payload; subclasses set ``type`` and ``version``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: ClassVar[str]
    version: ClassVar[int] = 1


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(description="Stable event id; also the Nats-Msg-Id used for deduplication.")
    type: str
    version: int
    time: datetime
    producer: str
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: EventData, producer: str, *, event_id: uuid.UUID | None = None) -> Envelope:
        return cls(
            id=event_id or uuid.uuid4(),
            type=event.type,
            version=event.version,
            time=datetime.now(timezone.utc),
            producer=producer,
            data=event.model_dump(mode="json"),
        )

    @property
    def subject(self) -> str:
        return self.type

    @property
    def meta(self) -> EventMeta:
        return EventMeta(id=self.id, type=self.type, version=self.version, time=self.time, producer=self.producer)


@dataclass(frozen=True)
class EventMeta:
    """What the envelope says about an event besides its data: a consumer's handler gets it next
    to the typed event (``handler(event, uow, *, meta)``), e.g. to key what it records by ``id``."""

    id: uuid.UUID  # stable; also the Nats-Msg-Id and the key in processed_events
    type: str
    version: int
    time: datetime  # when the producer recorded it
    producer: str


EVENT_SCHEMAS: dict[tuple[str, int], type[EventData]] = {}


def event(cls: type[EventData]) -> type[EventData]:
    """Registers an event schema in the catalogue of contracts: one class per type and version
    (consumers name the classes they take, see :class:`esign.consumer.ConsumerSpec`)."""
    key = (cls.type, cls.version)
    if key in EVENT_SCHEMAS:
        raise RuntimeError(f"duplicate event schema {key}")
    EVENT_SCHEMAS[key] = cls
    return cls


# ---------------------------------------------------------------- applications.*


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    line1: str
    line2: str | None = None
    district: str
    city: str
    postal_code: str


@event
class InstitutionCreated(EventData):
    type: ClassVar[str] = "applications.institution.created"
    institution_id: uuid.UUID
    name: str


@event
class OfficerAdded(EventData):
    type: ClassVar[str] = "applications.officer.added"
    institution_id: uuid.UUID
    officer_id: uuid.UUID
    full_name: str
    email: str
    mobile: str | None = None


@event
class InvitationIssued(EventData):
    """An applicant was invited (or re-invited). The link token and access password travel only
    inside ``sealed_credentials``: a libsodium sealed box that only the notifications service's
    private key opens (see docs/events.md, "Invitation secrets")."""

    type: ClassVar[str] = "applications.invitation.issued"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    first_name: str
    last_name: str
    email: str
    mobile: str
    locale: str = "tr"
    expires_at: datetime
    reissue: bool = False
    sealed_credentials: str


@event
class FormCompleted(EventData):
    type: ClassVar[str] = "applications.form.completed"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    first_name: str
    last_name: str
    email: str


@event
class SignedFormReceived(EventData):
    type: ClassVar[str] = "applications.signed_form.received"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    channel: str
    received_on: date


@event
class ApplicationForwarded(EventData):
    type: ClassVar[str] = "applications.application.forwarded"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    batch_id: uuid.UUID
    email: str
    first_name: str
    last_name: str


@event
class ApplicationRejected(EventData):
    type: ClassVar[str] = "applications.application.rejected"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    reason: str
    email: str
    mobile: str
    first_name: str
    last_name: str


@event
class CertificateProduced(EventData):
    """Everything the tracking service needs to ship the card and reader, and the notifications
    service to remember the certificate's expiry. ``holder_id`` is a pseudonymous, stable id
    of the person within the applications service (never the TC Kimlik No)."""

    type: ClassVar[str] = "applications.certificate.produced"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    holder_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    mobile: str
    delivery_address: Address
    card_reader_type: str
    certificate_serial: str
    card_type: str
    not_before: datetime
    not_after: datetime
    # A renewal's certificate: ``renews_serial`` is the one it replaces (whose reminders stop).
    kind: str = "first"
    renews_serial: str | None = None


@event
class ApplicationStatusChanged(EventData):
    """Every transition of an application, for read models and audit consumers."""

    type: ClassVar[str] = "applications.application.status_changed"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    from_status: str
    to_status: str
    reason: str | None = None


@event
class RenewalRecorded(EventData):
    """The holder asked to renew (a form completed with the reason "renewal"): expiry reminders
    for the holder's current certificate stop. A later ``certificate.produced`` for the same
    ``holder_id`` is the renewed certificate."""

    type: ClassVar[str] = "applications.renewal.recorded"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    holder_id: uuid.UUID
    recorded_at: datetime


@event
class RenewalEApproved(EventData):
    """The holder e-approved the renewal request with the current card (PAdES-signed PDF
    stored). The old certificate's expiry reminders stop; the holder and the institution's
    officers are told what happens next."""

    type: ClassVar[str] = "applications.renewal.e_approved"
    application_id: uuid.UUID
    renewed_application_id: uuid.UUID
    holder_id: uuid.UUID
    institution_id: uuid.UUID
    certificate_serial: str = Field(description="The serial of the certificate being renewed (the old one).")
    first_name: str
    last_name: str
    email: str
    mobile: str | None = None
    locale: str = "tr"


@event
class RenewalFiled(EventData):
    """The officer filed the institutional renewal application: the holder gets the Renewal Form
    e-mail. The link secret travels only in ``sealed_form_secret`` (a sealed box for the
    notifications service, like ``invitation.issued``'s credentials): ``{"token", "link"}``."""

    type: ClassVar[str] = "applications.renewal.filed"
    application_id: uuid.UUID
    holder_id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    first_name: str
    last_name: str
    email: str
    sealed_form_secret: str
    form_url_base: str
    link_expires_at: datetime
    resend: bool = False
    locale: str = "tr"


@event
class RenewalFormApproved(EventData):
    """The holder approved the Renewal Form: the renewal is in the CA's queue (``at_ca``)."""

    type: ClassVar[str] = "applications.renewal.form_approved"
    application_id: uuid.UUID
    holder_id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    first_name: str
    last_name: str
    email: str
    approved_at: datetime
    locale: str = "tr"


@event
class PersonErased(EventData):
    """A person was erased at the end of their purpose (docs/personal-data.md, "Retention"): the
    services that keep contacts for their applications remove them. Ids only: the event itself
    must not carry what it asks to remove."""

    type: ClassVar[str] = "applications.person.erased"
    person_id: uuid.UUID  # the ``holder_id`` of certificate.produced
    application_ids: tuple[uuid.UUID, ...]
    erased_at: datetime


# ---------------------------------------------------------------- notifications.*


@event
class ExpiryWarned(EventData):
    """The holder was warned that the certificate expires in ``days_before`` days (one event per
    step of the reminder schedule, each sent once)."""

    type: ClassVar[str] = "notifications.certificate.expiry_warned"
    application_id: uuid.UUID
    institution_id: uuid.UUID
    holder_id: uuid.UUID
    certificate_serial: str
    not_after: datetime
    days_before: int
    warned_at: datetime


# ---------------------------------------------------------------- tracking.*


class _ShipmentEvent(EventData):
    shipment_id: uuid.UUID
    application_id: uuid.UUID
    tracking_number: str
    carrier: str  # the adapter's internal name (`simulated`, `http`): for machines, never for people
    occurred_at: datetime
    # What the holder is told ("PTT Kargo"), from the tracking service's configuration; absent in
    # events of shipments made before it existed.
    carrier_name: str | None = None


@event
class ShipmentHandedToCourier(_ShipmentEvent):
    type: ClassVar[str] = "tracking.shipment.handed_to_courier"
    query_url: str | None = None


@event
class ShipmentDelivered(_ShipmentEvent):
    type: ClassVar[str] = "tracking.shipment.delivered"


@event
class ShipmentDeliveryFailed(_ShipmentEvent):
    type: ClassVar[str] = "tracking.shipment.delivery_failed"
    reason: str | None = None


@event
class ShipmentReturned(_ShipmentEvent):
    type: ClassVar[str] = "tracking.shipment.returned"
    reason: str | None = None


@event
class ShipmentOutForDelivery(_ShipmentEvent):
    """The courier is on the way today: the holder should have an ID card at hand."""

    type: ClassVar[str] = "tracking.shipment.out_for_delivery"


@event
class ShipmentReshipped(EventData):
    """A returned parcel is shipped again: a new shipment (its own id and, once the carrier has
    it, its own tracking number) to the same recipient. Its hand-over is announced as usual."""

    type: ClassVar[str] = "tracking.shipment.reshipped"
    shipment_id: uuid.UUID  # the new shipment
    previous_shipment_id: uuid.UUID  # the returned one
    application_id: uuid.UUID
    attempt: int  # 2 for the first reshipment
    carrier: str
    carrier_name: str | None = None
    occurred_at: datetime


@event
class ShipmentStuck(_ShipmentEvent):
    """Not delivered within the promised working days of hand-over; flagged once so someone acts."""

    type: ClassVar[str] = "tracking.shipment.stuck"
    handed_over_at: datetime
    working_days: int
    last_status: str

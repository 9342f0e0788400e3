"""The notifications service's durable consumers: one on the applications stream, one on the
tracking stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from esign.consumer import ConsumerSpec, Takes
from esign.events import (
    ApplicationForwarded,
    ApplicationRejected,
    CertificateProduced,
    FormCompleted,
    InstitutionCreated,
    InvitationIssued,
    OfficerAdded,
    PersonErased,
    RenewalEApproved,
    RenewalFiled,
    RenewalFormApproved,
    RenewalRecorded,
    ShipmentReshipped,
    SignedFormReceived,
)
from services.notifications.handlers.incoming_events import SHIPMENT_TEMPLATES, EventHandlers

if TYPE_CHECKING:
    from services.notifications.app import Workers

APPLICATIONS_CONSUMER = "notifications-applications"
TRACKING_CONSUMER = "notifications-tracking"


def consumer_specs(workers: Workers) -> list[ConsumerSpec]:
    """What the events call for is recorded in the consumer's transaction; the sender is woken once
    it is committed."""
    handlers = EventHandlers(
        workers.settings.default_locale, workers.settings.shipment_query_url, wake_sender=workers.wake_sender
    )
    return [
        ConsumerSpec(
            name=APPLICATIONS_CONSUMER,
            producer="applications",
            handlers=[
                Takes(InstitutionCreated, handlers.institution_created),
                Takes(OfficerAdded, handlers.officer_added),
                Takes(InvitationIssued, handlers.invitation_issued),
                Takes(FormCompleted, handlers.form_completed),
                Takes(SignedFormReceived, handlers.signed_form_received),
                Takes(ApplicationForwarded, handlers.application_forwarded),
                Takes(ApplicationRejected, handlers.application_rejected),
                Takes(CertificateProduced, handlers.certificate_produced),
                Takes(RenewalRecorded, handlers.renewal_recorded),
                Takes(RenewalEApproved, handlers.renewal_e_approved),
                Takes(RenewalFiled, handlers.renewal_filed),
                Takes(RenewalFormApproved, handlers.renewal_form_approved),
                Takes(PersonErased, handlers.person_erased),
            ],
        ),
        ConsumerSpec(
            name=TRACKING_CONSUMER,
            producer="tracking",
            handlers=[
                *(Takes(event_class, handlers.shipment_event) for event_class in SHIPMENT_TEMPLATES),
                Takes(ShipmentReshipped, handlers.shipment_reshipped),
            ],
        ),
    ]

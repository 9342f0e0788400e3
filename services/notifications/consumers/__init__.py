"""The notifications service's durable consumers: one on the applications stream, one on the
tracking stream."""

from __future__ import annotations

from esign.consumer import ConsumerSpec
from esign.events import (
    ApplicationForwarded,
    ApplicationRejected,
    CertificateProduced,
    FormCompleted,
    InstitutionCreated,
    InvitationIssued,
    OfficerAdded,
    RenewalEApproved,
    RenewalFiled,
    RenewalFormApproved,
    RenewalRecorded,
    ShipmentReshipped,
    SignedFormReceived,
)
from services.notifications.handlers.incoming_events import SHIPMENT_TEMPLATES, EventHandlers

APPLICATIONS_CONSUMER = "notifications-applications"
TRACKING_CONSUMER = "notifications-tracking"


def consumer_specs(handlers: EventHandlers) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name=APPLICATIONS_CONSUMER,
            producer="applications",
            handlers={
                InstitutionCreated.type: handlers.institution_created,
                OfficerAdded.type: handlers.officer_added,
                InvitationIssued.type: handlers.invitation_issued,
                FormCompleted.type: handlers.form_completed,
                SignedFormReceived.type: handlers.signed_form_received,
                ApplicationForwarded.type: handlers.application_forwarded,
                ApplicationRejected.type: handlers.application_rejected,
                CertificateProduced.type: handlers.certificate_produced,
                RenewalRecorded.type: handlers.renewal_recorded,
                RenewalEApproved.type: handlers.renewal_e_approved,
                RenewalFiled.type: handlers.renewal_filed,
                RenewalFormApproved.type: handlers.renewal_form_approved,
            },
        ),
        ConsumerSpec(
            name=TRACKING_CONSUMER,
            producer="tracking",
            handlers={
                **{event_type: handlers.shipment_event for event_type in SHIPMENT_TEMPLATES},
                ShipmentReshipped.type: handlers.shipment_reshipped,
            },
        ),
    ]

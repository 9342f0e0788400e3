"""What each consumed event calls for. A handler runs inside the consumer's transaction and only
records: the recipient directory, certificates for the reminders, and the deliveries to send.
Sending happens later in the delivery worker, so a slow or dead SMTP server never holds up the
stream, and a replayed event finds its deliveries already recorded (unique per event, channel
and recipient)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from esign.events import (
    ApplicationForwarded,
    ApplicationRejected,
    CertificateProduced,
    EventMeta,
    FormCompleted,
    InstitutionCreated,
    InvitationIssued,
    OfficerAdded,
    PersonErased,
    RenewalEApproved,
    RenewalFiled,
    RenewalFormApproved,
    RenewalRecorded,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentHandedToCourier,
    ShipmentOutForDelivery,
    ShipmentReshipped,
    ShipmentReturned,
    SignedFormReceived,
)
from esign.masking import mask_recipient
from services.notifications.adapters.repositories.certificates import ProducedCertificate
from services.notifications.adapters.repositories.directory import Officer
from services.notifications.adapters.repositories.recipients import Contact
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.domain.catalogue import LOCALES, TEMPLATES
from services.notifications.domain.delivery import Channel, NewDelivery

log = structlog.get_logger("notifications.events")


class RecipientNotKnownYet(Exception):
    """An event that names only the application (shipment events, signed_form.received) arrived
    before the invitation that tells us who that is (streams are not ordered with each other).
    Raised so the consumer naks and retries it later instead of dropping it."""


ShipmentProgress = (
    ShipmentHandedToCourier | ShipmentOutForDelivery | ShipmentDelivered | ShipmentDeliveryFailed | ShipmentReturned
)
SHIPMENT_TEMPLATES: dict[type[ShipmentProgress], str] = {
    ShipmentHandedToCourier: "shipment_handed_to_courier",
    ShipmentOutForDelivery: "shipment_out_for_delivery",
    ShipmentDelivered: "shipment_delivered",
    ShipmentDeliveryFailed: "shipment_delivery_failed",
    ShipmentReturned: "shipment_returned",
}
# Events that name the person (and so keep the recipient directory up to date).
PersonEvent = FormCompleted | ApplicationForwarded | ApplicationRejected | CertificateProduced | RenewalFormApproved


def carrier_display_name(carrier: str, carrier_name: str | None) -> str:
    # Events from before the tracking service sent display names carry only the internal one.
    return carrier_name or carrier


@dataclass
class EventHandlers:
    default_locale: str
    shipment_query_url: str
    wake_sender: Callable[[], None] = lambda: None

    def _locale(self, wanted: str | None) -> str:
        return wanted if wanted in LOCALES else self.default_locale

    async def _enqueue(
        self,
        uow: NotificationsUnitOfWork,
        meta: EventMeta,
        *,
        template: str,
        locale: str,
        context: dict,
        email: str | None,
        mobile: str | None = None,
        application_id: uuid.UUID | None = None,
        institution_id: uuid.UUID | None = None,
        sealed_secret: str | None = None,
    ) -> None:
        channels = TEMPLATES[template].channels
        wanted = [(Channel.EMAIL, email), (Channel.SMS, mobile)]
        new = [
            NewDelivery(
                source_event_id=meta.id,
                channel=channel,
                recipient=to,
                template=template,
                locale=locale,
                context=context,
                application_id=application_id,
                institution_id=institution_id,
                sealed_secret=sealed_secret if channel is Channel.EMAIL else None,
            )
            for channel, to in wanted
            if to and channel in channels
        ]
        added = await uow.deliveries.enqueue(new)
        if added:
            uow.after_commit(self.wake_sender)
        log.info("deliveries_recorded", event_id=str(meta.id), type=meta.type, template=template, count=added)

    async def _remember(self, uow: NotificationsUnitOfWork, e, *, mobile: str | None, locale: str | None) -> None:
        """Keeps who ``e``'s application is for (name, e-mail, mobile, locale: ``None`` keeps the
        locale already known), so events that name only the application find the person."""
        contact = Contact(
            application_id=e.application_id,
            institution_id=e.institution_id,
            first_name=e.first_name,
            last_name=e.last_name,
            email=e.email,
            mobile=mobile,
            locale=locale,
        )
        await uow.recipients.remember(contact, default_locale=self.default_locale)

    async def _known(self, uow: NotificationsUnitOfWork, application_id):
        recipient = await uow.recipients.get(application_id)
        if recipient is None:
            raise RecipientNotKnownYet(f"no recipient for application {application_id} yet")
        return recipient

    # ------------------------------------------------------------ applications.*

    async def institution_created(
        self, e: InstitutionCreated, uow: NotificationsUnitOfWork, *, meta: EventMeta
    ) -> None:
        await uow.directory.institution(e.institution_id, e.name)

    async def officer_added(self, e: OfficerAdded, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        await uow.directory.officer(
            Officer(
                id=e.officer_id, institution_id=e.institution_id, full_name=e.full_name, email=e.email, mobile=e.mobile
            )
        )

    async def invitation_issued(self, e: InvitationIssued, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        locale = self._locale(e.locale)
        await self._remember(uow, e, mobile=e.mobile, locale=locale)
        await uow.directory.institution(e.institution_id, e.institution_name)
        # The link and password stay sealed in the delivery row; the worker opens them to send.
        context = {
            "first_name": e.first_name,
            "last_name": e.last_name,
            "institution_name": e.institution_name,
            "expires_at": e.expires_at.isoformat(),
            "reissue": e.reissue,
        }
        await self._enqueue(
            uow,
            meta,
            template="invitation",
            locale=locale,
            context=context,
            email=e.email,
            application_id=e.application_id,
            institution_id=e.institution_id,
            sealed_secret=e.sealed_credentials,
        )

    async def _person_event(
        self, e: PersonEvent, uow: NotificationsUnitOfWork, *, meta: EventMeta, template: str, extra: dict
    ) -> None:
        mobile = e.mobile if isinstance(e, ApplicationRejected | CertificateProduced) else None
        await self._remember(uow, e, mobile=mobile, locale=None)
        recipient = await self._known(uow, e.application_id)
        context = {"first_name": e.first_name, "last_name": e.last_name, **extra}
        await self._enqueue(
            uow,
            meta,
            template=template,
            locale=recipient.locale,
            context=context,
            email=e.email,
            mobile=mobile,
            application_id=e.application_id,
            institution_id=e.institution_id,
        )

    async def form_completed(self, e: FormCompleted, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        await self._person_event(e, uow, meta=meta, template="form_completed", extra={})

    async def signed_form_received(
        self, e: SignedFormReceived, uow: NotificationsUnitOfWork, *, meta: EventMeta
    ) -> None:
        recipient = await self._known(uow, e.application_id)
        context = {
            "first_name": recipient.first_name,
            "last_name": recipient.last_name,
            "channel": e.channel,
            "received_on": e.received_on.isoformat(),
        }
        await self._enqueue(
            uow,
            meta,
            template="signed_form_received",
            locale=recipient.locale,
            context=context,
            email=recipient.email,
            application_id=e.application_id,
            institution_id=e.institution_id,
        )

    async def application_forwarded(
        self, e: ApplicationForwarded, uow: NotificationsUnitOfWork, *, meta: EventMeta
    ) -> None:
        await self._person_event(e, uow, meta=meta, template="application_forwarded", extra={})

    async def application_rejected(
        self, e: ApplicationRejected, uow: NotificationsUnitOfWork, *, meta: EventMeta
    ) -> None:
        await self._person_event(e, uow, meta=meta, template="application_rejected", extra={"reason": e.reason})

    async def certificate_produced(
        self, e: CertificateProduced, uow: NotificationsUnitOfWork, *, meta: EventMeta
    ) -> None:
        await self._person_event(
            e,
            uow,
            meta=meta,
            template="certificate_produced",
            extra={
                "certificate_serial": e.certificate_serial,
                "not_after": e.not_after.isoformat(),
                "city": e.delivery_address.city,
                # A renewal's card is usable from the old one's end: the message says so.
                "renews_serial": e.renews_serial,
                "not_before": e.not_before.isoformat(),
            },
        )
        recipient = await self._known(uow, e.application_id)  # remembered just above
        await uow.certificates.add(
            ProducedCertificate(
                serial=e.certificate_serial,
                holder_id=e.holder_id,
                application_id=e.application_id,
                institution_id=e.institution_id,
                first_name=e.first_name,
                last_name=e.last_name,
                email=e.email,
                mobile=e.mobile,
                locale=recipient.locale,
                not_after=e.not_after,
                produced_at=meta.time,
            )
        )

    async def person_erased(self, e: PersonErased, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        """The applications service erased a person at the end of their purpose: what this service
        keeps of them for those applications goes too (docs/personal-data.md). The recipient
        directory rows and the certificates (with any reminder still to come: the certificate has
        ended anyway) are deleted; queued deliveries are cancelled and the delivery log's
        contacts masked, so counts and outcomes stay. Applied twice, the second finds nothing."""
        applications = list(e.application_ids)
        recipients = await uow.recipients.forget(applications)
        certificates = await uow.certificates.forget(e.person_id, applications)
        cancelled, masked = await uow.deliveries.forget_applications(applications, mask_recipient)
        log.info(
            "person_forgotten",
            event_id=str(meta.id),
            applications=len(applications),
            recipients=recipients,
            certificates=certificates,
            deliveries_cancelled=cancelled,
            deliveries_masked=masked,
        )

    async def renewal_recorded(self, e: RenewalRecorded, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        stopped = await uow.certificates.record_renewal(e.holder_id, e.application_id, e.recorded_at)
        log.info("expiry_reminders_stopped", holder_id=str(e.holder_id), certificates=stopped)

    async def renewal_e_approved(self, e: RenewalEApproved, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        """The holder approved the renewal with the old card: the old certificate needs no more
        warnings; the holder is told what comes next and the officers that they have one to file.
        The renewal's own application is remembered, so its later steps (form, production, the
        courier's events) find the holder."""
        stopped = await uow.certificates.record_renewal(e.holder_id, e.application_id, meta.time)
        log.info("expiry_reminders_stopped", holder_id=str(e.holder_id), certificates=stopped)
        locale = self._locale(e.locale)
        await self._remember(uow, e, mobile=e.mobile, locale=locale)
        institution_name = await uow.directory.institution_name(e.institution_id) or ""
        await self._enqueue(
            uow,
            meta,
            template="renewal_e_approved",
            locale=locale,
            context={
                "first_name": e.first_name,
                "last_name": e.last_name,
                "certificate_serial": e.certificate_serial,
                "institution_name": institution_name,
            },
            email=e.email,
            application_id=e.application_id,
            institution_id=e.institution_id,
        )
        officers = await uow.directory.officers_of(e.institution_id)
        new = [
            NewDelivery(
                source_event_id=meta.id,
                channel=Channel.EMAIL,
                recipient=officer.email,
                template="renewal_e_approved_officer",
                locale=self.default_locale,
                context={
                    "officer_name": officer.full_name,
                    "holder_name": f"{e.first_name} {e.last_name}",
                    "institution_name": institution_name,
                },
                application_id=e.application_id,
                institution_id=e.institution_id,
            )
            for officer in officers
        ]
        if new and await uow.deliveries.enqueue(new):
            uow.after_commit(self.wake_sender)

    async def renewal_filed(self, e: RenewalFiled, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        """The officer filed the renewal: the holder gets the Renewal Form's link, sealed by the
        applications service and opened only by the delivery worker (as the invitation's)."""
        recipient = await uow.recipients.get(e.application_id)
        locale = self._locale(e.locale) if recipient is None else recipient.locale
        mobile = recipient.mobile if recipient else None
        await self._remember(uow, e, mobile=mobile, locale=locale)
        context = {
            "first_name": e.first_name,
            "last_name": e.last_name,
            "institution_name": e.institution_name,
            "expires_at": e.link_expires_at.isoformat(),
            "resend": e.resend,
        }
        await self._enqueue(
            uow,
            meta,
            template="renewal_form",
            locale=locale,
            context=context,
            email=e.email,
            mobile=mobile,
            application_id=e.application_id,
            institution_id=e.institution_id,
            sealed_secret=e.sealed_form_secret,
        )

    async def renewal_form_approved(
        self, e: RenewalFormApproved, uow: NotificationsUnitOfWork, *, meta: EventMeta
    ) -> None:
        await self._person_event(
            e, uow, meta=meta, template="renewal_form_approved", extra={"institution_name": e.institution_name}
        )

    # ------------------------------------------------------------ tracking.*

    async def shipment_event(self, e: ShipmentProgress, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        recipient = await self._known(uow, e.application_id)
        context = {
            "first_name": recipient.first_name,
            "last_name": recipient.last_name,
            "tracking_number": e.tracking_number,
            "carrier": carrier_display_name(e.carrier, e.carrier_name),
            "query_url": (e.query_url if isinstance(e, ShipmentHandedToCourier) else None) or self.shipment_query_url,
            "reason": e.reason if isinstance(e, ShipmentDeliveryFailed | ShipmentReturned) else None,
        }
        await self._enqueue(
            uow,
            meta,
            template=SHIPMENT_TEMPLATES[type(e)],
            locale=recipient.locale,
            context=context,
            email=recipient.email,
            mobile=recipient.mobile,
            application_id=e.application_id,
            institution_id=recipient.institution_id,
        )

    async def shipment_reshipped(self, e: ShipmentReshipped, uow: NotificationsUnitOfWork, *, meta: EventMeta) -> None:
        recipient = await self._known(uow, e.application_id)
        context = {
            "first_name": recipient.first_name,
            "last_name": recipient.last_name,
            "carrier": carrier_display_name(e.carrier, e.carrier_name),
            "query_url": self.shipment_query_url,
        }
        await self._enqueue(
            uow,
            meta,
            template="shipment_reshipped",
            locale=recipient.locale,
            context=context,
            email=recipient.email,
            mobile=recipient.mobile,
            application_id=e.application_id,
            institution_id=recipient.institution_id,
        )

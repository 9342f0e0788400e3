"""The application aggregate and its state machine.

Plain Python: no web framework, no ORM. Every state change goes through ``_move``, which checks
the transition table and records a ``Transition`` (the audit trail and the source of the
status-changed events).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from services.applications.domain.form import (
    FieldError,
    FormDraft,
    apply_patch,
    completeness_errors,
)


class Status(enum.StrEnum):
    INVITED = "invited"
    FORM_IN_PROGRESS = "form_in_progress"
    FORM_COMPLETED = "form_completed"
    SIGNED_FORM_RECEIVED = "signed_form_received"
    FORWARDED = "forwarded"
    REJECTED = "rejected"
    PRODUCED = "produced"
    SHIPPED = "shipped"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    # A renewal's own steps (contract "States of a renewal").
    DRAFT = "draft"  # signed in with the card, not e-approved yet
    E_APPROVED = "e_approved"  # the holder signed the renewal request (PAdES)
    FILED = "filed"  # the officer filed the institutional renewal application
    AT_CA = "at_ca"  # the holder approved the Renewal Form: in the CA's queue
    EXPIRED = "expired"  # left in draft, or its Renewal Form link ran out


class Kind(enum.StrEnum):
    FIRST = "first"
    RENEWAL = "renewal"


ALLOWED: Mapping[Status, frozenset[Status]] = {
    Status.INVITED: frozenset({Status.FORM_IN_PROGRESS, Status.FORM_COMPLETED, Status.WITHDRAWN}),
    Status.FORM_IN_PROGRESS: frozenset({Status.FORM_COMPLETED, Status.WITHDRAWN}),
    # The applicant may reopen a completed form until the signed paper has arrived.
    Status.FORM_COMPLETED: frozenset({Status.FORM_IN_PROGRESS, Status.SIGNED_FORM_RECEIVED, Status.WITHDRAWN}),
    Status.SIGNED_FORM_RECEIVED: frozenset({Status.FORWARDED, Status.WITHDRAWN}),
    Status.FORWARDED: frozenset({Status.REJECTED, Status.PRODUCED}),
    # A rejected (incomplete) form goes back to the applicant to correct and sign again.
    Status.REJECTED: frozenset({Status.FORM_IN_PROGRESS, Status.WITHDRAWN}),
    # Courier events may arrive out of order, so a produced card can be seen delivered first.
    Status.PRODUCED: frozenset({Status.SHIPPED, Status.DELIVERY_FAILED, Status.DELIVERED, Status.RETURNED}),
    Status.SHIPPED: frozenset({Status.DELIVERY_FAILED, Status.DELIVERED, Status.RETURNED}),
    Status.DELIVERY_FAILED: frozenset({Status.SHIPPED, Status.DELIVERED, Status.RETURNED}),
    Status.RETURNED: frozenset({Status.SHIPPED}),  # sent again
    Status.DELIVERED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    # A renewal's own states: a first application never enters them.
    **{s: frozenset() for s in (Status.DRAFT, Status.E_APPROVED, Status.FILED, Status.AT_CA, Status.EXPIRED)},
}
RENEWAL_ALLOWED: Mapping[Status, frozenset[Status]] = {
    **ALLOWED,
    Status.DRAFT: frozenset({Status.E_APPROVED, Status.WITHDRAWN, Status.EXPIRED}),
    Status.E_APPROVED: frozenset({Status.FILED, Status.WITHDRAWN}),
    Status.FILED: frozenset({Status.AT_CA, Status.WITHDRAWN, Status.EXPIRED}),
    Status.AT_CA: frozenset({Status.REJECTED, Status.PRODUCED}),
    # A rejected renewal does not go back to a paper form: the holder starts a new renewal.
    Status.REJECTED: frozenset({Status.WITHDRAWN}),
    Status.EXPIRED: frozenset(),
}
# A renewal in one of these blocks a second renewal of the same certificate.
RENEWAL_OPEN = frozenset({Status.DRAFT, Status.E_APPROVED, Status.FILED, Status.AT_CA})
# ...and in one of these, the certificate has been renewed.
RENEWAL_DONE = frozenset({Status.PRODUCED, Status.SHIPPED, Status.DELIVERY_FAILED, Status.DELIVERED, Status.RETURNED})
EDITABLE = frozenset({Status.INVITED, Status.FORM_IN_PROGRESS, Status.FORM_COMPLETED, Status.REJECTED})
# "Has not filled the form yet": the officer's reminder list and the summary's count.
FORM_NOT_FILLED = frozenset({Status.INVITED, Status.FORM_IN_PROGRESS})


class SignedFormChannel(enum.StrEnum):
    PAPER = "paper"  # handed in to the secretariat
    EMAIL_PDF = "email_pdf"  # PDF of the signed form e-mailed to the institution
    CARGO_OR_POST = "cargo_or_post"  # by cargo or registered post, no cover letter needed


class DomainError(Exception):
    code = "domain_error"


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"An application that is {current.value} cannot become {target.value}.")
        self.current = current
        self.target = target


class RenewalNotEditable(DomainError):
    code = "renewal_not_editable"


class FormIncomplete(DomainError):
    code = "form_incomplete"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("The form is not complete.")
        self.errors = errors


class FormInvalid(DomainError):
    code = "form_invalid"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("Some fields are not valid.")
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    role: str
    subject: str


SYSTEM = Actor("system", "esign")


# How the audit trail and the status-changed events name the state before an application existed.
BEFORE_CREATION = "new"


@dataclass(frozen=True)
class Transition:
    application_id: uuid.UUID
    institution_id: uuid.UUID
    from_status: Status | None  # None: the application came into being (BEFORE_CREATION)
    to_status: Status
    actor: Actor
    at: datetime
    reason: str | None = None

    @property
    def from_status_name(self) -> str:
        return BEFORE_CREATION if self.from_status is None else self.from_status.value


@dataclass(frozen=True)
class SignedFormReceipt:
    channel: SignedFormChannel
    received_on: date
    reference: str | None
    recorded_by: str


@dataclass(frozen=True)
class Certificate:
    serial: str
    not_before: datetime
    not_after: datetime
    card_type: str

    def check(self) -> None:
        """Raises ``FormInvalid`` when the validity is reversed: a fault of the request, not of the
        application's state, so the handler asks before it looks at the application."""
        if self.not_after <= self.not_before:
            raise FormInvalid(
                [FieldError("not_after", "validity_order", "The end of validity must be after its start.")]
            )


@dataclass(frozen=True)
class Shipment:
    tracking_number: str
    carrier: str
    last_event_at: datetime


@dataclass
class Application:
    id: uuid.UUID
    institution_id: uuid.UUID
    person_id: uuid.UUID
    status: Status = Status.INVITED
    form: FormDraft = field(default_factory=FormDraft)
    security_word_hash: str | None = None
    signed_form: SignedFormReceipt | None = None
    batch_id: uuid.UUID | None = None
    rejection_reason: str | None = None
    certificate: Certificate | None = None
    shipment: Shipment | None = None
    kind: Kind = Kind.FIRST
    renews_application_id: uuid.UUID | None = None
    version: int = 0
    events: list[Transition] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------------ internals

    @property
    def _allowed(self) -> Mapping[Status, frozenset[Status]]:
        return RENEWAL_ALLOWED if self.kind is Kind.RENEWAL else ALLOWED

    def _move(self, target: Status, actor: Actor, at: datetime, reason: str | None = None) -> None:
        if target not in self._allowed[self.status]:
            raise IllegalTransition(self.status, target)
        self.events.append(Transition(self.id, self.institution_id, self.status, target, actor, at, reason))
        self.status = target

    def pull_events(self) -> list[Transition]:
        events, self.events = self.events, []
        return events

    def can_move_to(self, target: Status) -> bool:
        return target in self._allowed[self.status]

    @classmethod
    def invite(
        cls,
        *,
        application_id: uuid.UUID,
        institution_id: uuid.UUID,
        person_id: uuid.UUID,
        form: FormDraft,
        actor: Actor,
        at: datetime,
    ) -> Application:
        """A new application of a staff list's person, invited to fill ``form`` (pre-filled
        from the list; the applicant can still correct it)."""
        app = cls(id=application_id, institution_id=institution_id, person_id=person_id, form=form)
        app.events.append(Transition(app.id, institution_id, None, Status.INVITED, actor, at, "roster import"))
        return app

    # ------------------------------------------------------------------ applicant

    def _ensure_editable(self) -> None:
        if self.kind is Kind.RENEWAL or self.status not in EDITABLE:
            raise IllegalTransition(self.status, Status.FORM_IN_PROGRESS)

    def save_draft(self, patch: Mapping[str, object], actor: Actor, at: datetime) -> bool:
        """Applies a partial update; a completed or rejected form goes back to in-progress. True
        when that reopened a form that was finished (it must be completed and printed again).
        The patch is judged before the state: a malformed request is a 422 in any state."""
        draft, errors = apply_patch(self.form, patch)
        if errors:
            raise FormInvalid(errors)
        self._ensure_editable()
        self.form = draft
        return self._back_in_progress(actor, at)

    def set_security_word(self, word_hash: str, actor: Actor, at: datetime) -> bool:
        """True when this reopened a finished form, as for ``save_draft``."""
        self._ensure_editable()
        self.security_word_hash = word_hash
        self.form = replace(self.form, security_word_set=True)
        return self._back_in_progress(actor, at)

    def _back_in_progress(self, actor: Actor, at: datetime) -> bool:
        if self.status is Status.FORM_IN_PROGRESS:
            return False
        reopened = self.status not in FORM_NOT_FILLED
        self._move(Status.FORM_IN_PROGRESS, actor, at)
        return reopened

    def complete_form(self, actor: Actor, at: datetime) -> None:
        if not self.can_move_to(Status.FORM_COMPLETED):
            raise IllegalTransition(self.status, Status.FORM_COMPLETED)
        errors = completeness_errors(self.form)
        if errors:
            raise FormIncomplete(errors)
        self._move(Status.FORM_COMPLETED, actor, at)

    # ------------------------------------------------------------------ officer

    def record_signed_form(self, receipt: SignedFormReceipt, actor: Actor, at: datetime) -> None:
        self._move(Status.SIGNED_FORM_RECEIVED, actor, at, f"via {receipt.channel.value}")
        self.signed_form = receipt

    def forward(self, batch_id: uuid.UUID, actor: Actor, at: datetime) -> None:
        self._move(Status.FORWARDED, actor, at, f"batch {batch_id}")
        self.batch_id = batch_id

    def withdraw(self, reason: str, actor: Actor, at: datetime) -> None:
        self._move(Status.WITHDRAWN, actor, at, reason)

    # ------------------------------------------------------------------ renewal

    @classmethod
    def start_renewal(
        cls, *, renewed: Application, form: FormDraft, actor: Actor, at: datetime, application_id: uuid.UUID
    ) -> Application:
        """A renewal of ``renewed``'s certificate, its request pre-filled from the old form."""
        app = cls(
            id=application_id,
            institution_id=renewed.institution_id,
            person_id=renewed.person_id,
            status=Status.DRAFT,
            form=form,
            kind=Kind.RENEWAL,
            renews_application_id=renewed.id,
        )
        app.events.append(Transition(app.id, app.institution_id, Status.DRAFT, Status.DRAFT, actor, at, "renewal"))
        return app

    def edit_renewal_request(self, form: FormDraft) -> None:
        if self.kind is not Kind.RENEWAL or self.status is not Status.DRAFT:
            raise RenewalNotEditable("The renewal request can be corrected only before the e-approval.")
        self.form = form

    def e_approve(self, actor: Actor, at: datetime) -> None:
        self._move(Status.E_APPROVED, actor, at, "e-approval (PAdES)")

    def file_renewal(self, batch_id: uuid.UUID, actor: Actor, at: datetime) -> None:
        self._move(Status.FILED, actor, at, f"batch {batch_id}")
        self.batch_id = batch_id

    def approve_renewal_form(self, actor: Actor, at: datetime) -> None:
        self._move(Status.AT_CA, actor, at, "Renewal Form approved")

    def expire_renewal(self, reason: str, at: datetime) -> None:
        self._move(Status.EXPIRED, SYSTEM, at, reason)

    # ------------------------------------------------------------------ CA operator

    def reject(self, reason: str, actor: Actor, at: datetime) -> None:
        self._move(Status.REJECTED, actor, at, reason)
        self.rejection_reason = reason
        self.signed_form = None  # a corrected form must be signed and received again

    def record_production(self, certificate: Certificate, actor: Actor, at: datetime) -> None:
        certificate.check()
        self._move(Status.PRODUCED, actor, at, f"certificate {certificate.serial}")
        self.certificate = certificate
        self.rejection_reason = None

    # ------------------------------------------------------------------ courier (via tracking events)

    def apply_shipment_event(
        self,
        target: Status,
        *,
        tracking_number: str,
        carrier: str,
        occurred_at: datetime,
        at: datetime,
        reason: str | None = None,
    ) -> bool:
        """Moves the application with the courier; returns False for an event that changes nothing
        (a duplicate, or older than the last one applied: shipments never move backwards)."""
        if self.shipment and occurred_at <= self.shipment.last_event_at:
            return False
        if self.status is target or not self.can_move_to(target):
            if self.status in {
                Status.PRODUCED,
                Status.SHIPPED,
                Status.DELIVERY_FAILED,
                Status.DELIVERED,
                Status.RETURNED,
            }:
                return False  # already past this point
            raise IllegalTransition(self.status, target)
        self._move(target, Actor("courier", carrier), at, reason or f"tracking {tracking_number}")
        self.shipment = Shipment(tracking_number, carrier, occurred_at)
        return True

"""The application's state machine, without a database or a web framework."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from services.applications.domain.application import (
    ALLOWED,
    RENEWAL_ALLOWED,
    Actor,
    Application,
    Certificate,
    FormIncomplete,
    FormInvalid,
    IllegalTransition,
    Kind,
    RenewalNotEditable,
    SignedFormChannel,
    SignedFormReceipt,
    Status,
)
from services.applications.domain.form import FormDraft

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
APPLICANT, OFFICER, CA = Actor("applicant", "a"), Actor("institution_officer", "o"), Actor("ca_operator", "c")
COMPLETE = {
    "registry_number": "A-1",
    "unit": "Bilgi İşlem",
    "title": "Uzman",
    "institutional_email": "a@ornek.edu.tr",
    "mobile": "05321234567",
    "card_reader_type": "acr39u",
    "validity_years": 3,
    "prior_certificate_reason": "none",
    "publish_consent": True,
    "delivery_address": {"line1": "Kampüs", "district": "Çankaya", "city": "Ankara", "postal_code": "06800"},
}


def new_app() -> Application:
    return Application(id=uuid.uuid4(), institution_id=uuid.uuid4(), person_id=uuid.uuid4())


def completed() -> Application:
    app = new_app()
    app.save_draft(COMPLETE, APPLICANT, NOW)
    app.set_security_word("$argon2id$hash", APPLICANT, NOW)
    app.complete_form(APPLICANT, NOW)
    return app


def forwarded() -> Application:
    app = completed()
    app.record_signed_form(SignedFormReceipt(SignedFormChannel.PAPER, date(2026, 1, 5), None, "o"), OFFICER, NOW)
    app.forward(uuid.uuid4(), OFFICER, NOW)
    return app


def test_every_status_has_a_rule_and_terminal_states_are_final():
    assert set(ALLOWED) == set(Status) == set(RENEWAL_ALLOWED)
    assert ALLOWED[Status.DELIVERED] == ALLOWED[Status.WITHDRAWN] == frozenset()
    assert RENEWAL_ALLOWED[Status.EXPIRED] == RENEWAL_ALLOWED[Status.DELIVERED] == frozenset()


def test_a_renewal_goes_through_its_own_states_and_never_back_to_a_paper_form():
    first = forwarded()
    first.record_production(Certificate("01:AB", NOW, NOW + timedelta(days=3 * 365), "AKIS"), CA, NOW)
    renewal = Application.start_renewal(
        renewed=first, form=first.form, actor=Actor("renewal_holder", "card"), at=NOW, application_id=uuid.uuid4()
    )
    assert (renewal.kind, renewal.status, renewal.renews_application_id) == (Kind.RENEWAL, Status.DRAFT, first.id)
    with pytest.raises(IllegalTransition):
        renewal.complete_form(OFFICER, NOW)  # a first application's step
    renewal.e_approve(Actor("renewal_holder", "card"), NOW)
    with pytest.raises(RenewalNotEditable):
        renewal.edit_renewal_request(renewal.form)
    renewal.file_renewal(uuid.uuid4(), OFFICER, NOW)
    renewal.approve_renewal_form(Actor("renewal_holder", "form"), NOW)
    renewal.reject("eksik", CA, NOW)
    with pytest.raises(IllegalTransition):
        renewal.save_draft({"title": "Dr."}, OFFICER, NOW)
    assert [t.to_status for t in renewal.pull_events()] == [
        Status.DRAFT,
        Status.E_APPROVED,
        Status.FILED,
        Status.AT_CA,
        Status.REJECTED,
    ]


def test_the_happy_path_records_each_transition_with_actor_and_reason():
    app = forwarded()
    cert = Certificate("01:AB", NOW, NOW + timedelta(days=3 * 365), "AKIS")
    app.record_production(cert, CA, NOW)
    transitions = app.pull_events()
    assert [(t.from_status, t.to_status) for t in transitions] == [
        (Status.INVITED, Status.FORM_IN_PROGRESS),
        (Status.FORM_IN_PROGRESS, Status.FORM_COMPLETED),
        (Status.FORM_COMPLETED, Status.SIGNED_FORM_RECEIVED),
        (Status.SIGNED_FORM_RECEIVED, Status.FORWARDED),
        (Status.FORWARDED, Status.PRODUCED),
    ]
    assert transitions[-1].actor == CA and "01:AB" in transitions[-1].reason
    assert app.pull_events() == []  # pulled once


def test_an_incomplete_form_cannot_be_completed_and_says_which_fields():
    app = new_app()
    with pytest.raises(FormIncomplete) as exc:
        app.complete_form(APPLICANT, NOW)
    assert {"publish_consent", "delivery_address", "security_word"} <= {e.field for e in exc.value.errors}
    assert app.status is Status.INVITED and app.pull_events() == []


def test_an_invalid_patch_changes_nothing():
    app = new_app()
    with pytest.raises(FormInvalid):
        app.save_draft({"validity_years": 4, "registry_number": "X-1"}, APPLICANT, NOW)
    assert app.form.registry_number is None and app.status is Status.INVITED


@pytest.mark.parametrize("step", ["forward", "production", "rejection", "signed_form"])
def test_steps_out_of_order_are_illegal(step):
    app = new_app()
    actions = {
        "forward": lambda: app.forward(uuid.uuid4(), OFFICER, NOW),
        "production": lambda: app.record_production(Certificate("1", NOW, NOW + timedelta(days=1), "AKIS"), CA, NOW),
        "rejection": lambda: app.reject("eksik", CA, NOW),
        "signed_form": lambda: app.record_signed_form(
            SignedFormReceipt(SignedFormChannel.EMAIL_PDF, date(2026, 1, 5), None, "o"), OFFICER, NOW
        ),
    }
    with pytest.raises(IllegalTransition) as exc:
        actions[step]()
    assert exc.value.current is Status.INVITED and app.status is Status.INVITED


def test_a_forwarded_form_is_frozen_for_the_applicant():
    app = forwarded()
    with pytest.raises(IllegalTransition):
        app.save_draft({"registry_number": "B"}, APPLICANT, NOW)


def test_rejection_sends_the_form_back_and_forgets_the_signed_paper():
    app = forwarded()
    app.reject("Islak imza yok", CA, NOW)
    assert app.status is Status.REJECTED and app.signed_form is None and app.rejection_reason == "Islak imza yok"
    app.save_draft({"registry_number": "A-2"}, APPLICANT, NOW)
    assert app.status is Status.FORM_IN_PROGRESS


def test_certificate_validity_must_end_after_it_starts():
    app = forwarded()
    with pytest.raises(FormInvalid):
        app.record_production(Certificate("1", NOW, NOW, "AKIS"), CA, NOW)
    assert app.status is Status.FORWARDED


def shipped_app() -> Application:
    app = forwarded()
    app.record_production(Certificate("1", NOW, NOW + timedelta(days=1000), "AKIS"), CA, NOW)
    return app


def test_courier_events_out_of_order_and_duplicated_never_move_backwards():
    app = shipped_app()
    t = NOW + timedelta(days=1)
    assert app.apply_shipment_event(
        Status.DELIVERED, tracking_number="YK1", carrier="sim", occurred_at=t + timedelta(days=2), at=NOW
    )  # delivered seen first
    assert not app.apply_shipment_event(
        Status.SHIPPED, tracking_number="YK1", carrier="sim", occurred_at=t, at=NOW
    )  # older hand-over: ignored
    assert not app.apply_shipment_event(
        Status.DELIVERED, tracking_number="YK1", carrier="sim", occurred_at=t + timedelta(days=2), at=NOW
    )  # duplicate
    assert app.status is Status.DELIVERED


def test_a_returned_card_can_be_sent_again():
    app = shipped_app()
    t = NOW + timedelta(days=1)
    app.apply_shipment_event(Status.SHIPPED, tracking_number="YK1", carrier="sim", occurred_at=t, at=NOW)
    app.apply_shipment_event(
        Status.RETURNED, tracking_number="YK1", carrier="sim", occurred_at=t + timedelta(days=5), at=NOW
    )
    assert app.apply_shipment_event(
        Status.SHIPPED, tracking_number="YK2", carrier="sim", occurred_at=t + timedelta(days=6), at=NOW
    )
    assert app.status is Status.SHIPPED and app.shipment.tracking_number == "YK2"


def test_courier_event_for_an_unproduced_application_is_illegal():
    with pytest.raises(IllegalTransition):
        new_app().apply_shipment_event(Status.SHIPPED, tracking_number="YK1", carrier="sim", occurred_at=NOW, at=NOW)


def test_an_invited_application_records_its_creation_as_a_transition():
    institution, person = uuid.uuid4(), uuid.uuid4()
    app = Application.invite(
        application_id=uuid.uuid4(),
        institution_id=institution,
        person_id=person,
        form=FormDraft(unit="Bilgi İşlem"),
        actor=OFFICER,
        at=NOW,
    )
    (created,) = app.pull_events()
    assert (app.status, created.from_status, created.from_status_name, created.to_status) == (
        Status.INVITED,
        None,
        "new",
        Status.INVITED,
    )
    assert (created.actor, created.at, created.reason, created.institution_id) == (
        OFFICER,
        NOW,
        "roster import",
        institution,
    )

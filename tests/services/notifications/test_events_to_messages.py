"""Each consumed event produces the right message, in Turkish and in English, through the real
pipeline: JetStream -> consumer -> delivery log -> worker -> SMTP server / HTTP SMS provider.
The messages are read back as the servers received them (decoded MIME, the provider's JSON)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest

from esign.events import (
    ApplicationForwarded,
    ApplicationRejected,
    FormCompleted,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentHandedToCourier,
    ShipmentOutForDelivery,
    ShipmentReshipped,
    ShipmentReturned,
    SignedFormReceived,
)
from tests.support.events import publish
from tests.support.notifications import Person, eventually, html_part, text_part

NOW = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
TRACKING = "KSM2026112299887766"


def shipment(cls, p: Person, **kw):
    return cls(
        shipment_id=uuid.uuid4(),
        application_id=p.application_id,
        tracking_number=TRACKING,
        carrier="simulated",  # the adapter's internal name: never shown to the holder
        carrier_name="PTT Kargo",
        occurred_at=NOW,
        **kw,
    )


# event factory, producer, expected (subject fragment, body fragment, sms fragment or None) per locale
CASES = {
    "form_completed": (
        lambda p: FormCompleted(
            application_id=p.application_id,
            institution_id=p.institution_id,
            first_name=p.first_name,
            last_name=p.last_name,
            email=p.email,
        ),
        "applications",
        {"tr": ("formunuz tamamlandı", "ıslak imzayla", None), "en": ("form is complete", "sign it by hand", None)},
    ),
    "signed_form_received": (
        lambda p: SignedFormReceived(
            application_id=p.application_id,
            institution_id=p.institution_id,
            channel="cargo_or_post",
            received_on=date(2026, 11, 20),
        ),
        "applications",
        {
            "tr": ("formunuz teslim alındı", "(kargo veya posta, 20.11.2026)", None),
            "en": ("form was received", "(cargo or post, 20 Nov 2026)", None),
        },
    ),
    "application_forwarded": (
        lambda p: ApplicationForwarded(
            application_id=p.application_id,
            institution_id=p.institution_id,
            batch_id=uuid.uuid4(),
            email=p.email,
            first_name=p.first_name,
            last_name=p.last_name,
        ),
        "applications",
        {
            "tr": ("Kamu SM'ye iletildi", "NES yetkilisi", None),
            "en": ("went to Kamu SM", "NES officer forwarded", None),
        },
    ),
    "application_rejected": (
        lambda p: ApplicationRejected(
            application_id=p.application_id,
            institution_id=p.institution_id,
            reason="Taahhütname imzasız",
            email=p.email,
            mobile=p.mobile,
            first_name=p.first_name,
            last_name=p.last_name,
        ),
        "applications",
        {
            "tr": ("iade edildi", "Taahhütname imzasız", "Gerekçe: Taahhütname imzasız"),
            "en": ("was returned", "Taahhütname imzasız", "Reason: Taahhütname imzasız"),
        },
    ),
    "certificate_produced": (
        lambda p: p.produced(f"SER-{uuid.uuid4().hex[:10]}", datetime(2029, 11, 22, tzinfo=timezone.utc)),
        "applications",
        {
            "tr": ("sertifikanız üretildi", "22.11.2029", "sertifikanız üretildi"),
            "en": ("has been produced", "22 Nov 2029", "certificate was produced"),
        },
    ),
    "handed_to_courier": (
        lambda p: shipment(ShipmentHandedToCourier, p, query_url="https://kargo.example/sorgu"),
        "tracking",
        {
            "tr": (TRACKING, "https://kargo.example/sorgu", f"Takip no: {TRACKING}"),
            "en": (TRACKING, "https://kargo.example/sorgu", f"Tracking no: {TRACKING}"),
        },
    ),
    "handed_to_courier_carrier_name": (
        lambda p: shipment(ShipmentHandedToCourier, p, query_url="https://kargo.example/sorgu"),
        "tracking",
        {
            "tr": (TRACKING, "PTT Kargo", "kartınız PTT Kargo ile kargoya verildi"),
            "en": (TRACKING, "PTT Kargo", "card shipped with PTT Kargo"),
        },
    ),
    "reshipped": (
        lambda p: ShipmentReshipped(
            shipment_id=uuid.uuid4(),
            previous_shipment_id=uuid.uuid4(),
            application_id=p.application_id,
            attempt=2,
            carrier="simulated",
            carrier_name="PTT Kargo",
            occurred_at=NOW,
        ),
        "tracking",
        {
            "tr": ("yeniden gönderiliyor", "PTT Kargo", "yeniden gönderiliyor"),
            "en": ("sent again", "PTT Kargo", "sent again"),
        },
    ),
    "handed_to_courier_default_query_page": (
        lambda p: shipment(ShipmentHandedToCourier, p),
        "tracking",
        {
            "tr": (TRACKING, "http://localhost:8003/gonderi-sorgulama", "gonderi-sorgulama"),
            "en": (TRACKING, "http://localhost:8003/gonderi-sorgulama", "gonderi-sorgulama"),
        },
    ),
    "out_for_delivery": (
        lambda p: shipment(ShipmentOutForDelivery, p),
        "tracking",
        {
            "tr": ("bugün dağıtımda", "kimlik kartınızı hazır", "kimlik kartınızı hazır"),
            "en": ("out for delivery", "have your ID card at hand", "ID card at hand"),
        },
    ),
    "delivered": (
        lambda p: shipment(ShipmentDelivered, p),
        "tracking",
        {"tr": ("teslim edildi", TRACKING, "teslim edildi"), "en": ("was delivered", TRACKING, "was delivered")},
    ),
    "delivery_failed": (
        lambda p: shipment(ShipmentDeliveryFailed, p, reason="Adreste bulunamadı"),
        "tracking",
        {
            "tr": ("teslim edilemedi", "Adreste bulunamadı", "Adreste bulunamadı"),
            "en": ("could not be delivered", "Adreste bulunamadı", "Adreste bulunamadı"),
        },
    ),
    "returned": (
        lambda p: shipment(ShipmentReturned, p, reason="Alıcı reddetti"),
        "tracking",
        {
            "tr": ("iade edildi", "Alıcı reddetti", "iade edildi"),
            "en": ("was returned", "Alıcı reddetti", "was returned"),
        },
    ),
}


@pytest.mark.parametrize("locale", ["tr", "en"])
@pytest.mark.parametrize("case", sorted(CASES))
async def test_event_produces_the_right_message(case, locale, notifications_app, notifications_js, smtp, sms_stub):
    make, producer, expected = CASES[case]
    subject_has, body_has, sms_has = expected[locale]
    p = Person(locale=locale)
    await publish(notifications_js, p.invitation(), "applications")  # the directory learns name, contacts, locale
    await publish(notifications_js, make(p), producer)

    def mails():
        return [m for m in smtp.to(p.email) if "davet" not in m["Subject"] and "invitation" not in m["Subject"]]

    [mail] = await eventually(lambda: _ready(mails()))
    assert subject_has in mail["Subject"]
    text, html = text_part(mail), html_part(mail)
    assert body_has in text and body_has.replace("'", "&#39;") in html
    assert f"{p.first_name} {p.last_name}" in text  # Turkish letters survive the MIME round trip
    assert mail["Content-Language"] == locale
    assert "simulated" not in text + html  # a carrier's internal name is for machines
    if sms_has is None:
        assert sms_stub.to(p.mobile) == []
    else:
        [sms] = await eventually(lambda: _ready(sms_stub.to(p.mobile)))
        assert sms_has in sms
        assert "simulated" not in sms


async def _ready(items):
    return items or None

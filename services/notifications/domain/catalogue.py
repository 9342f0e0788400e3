"""Every message the service sends: its template name, the channels it goes out on, and sample
data (long but realistic) for the preview endpoint and the tests that keep SMS within two segments.

A template's context holds only what may be stored: names, dates, tracking numbers. The
invitation's link and access password, and the Renewal Form's link, are added at send time from
the sealed credentials.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from services.notifications.domain.delivery import Channel

EMAIL = frozenset({Channel.EMAIL})
BOTH = frozenset({Channel.EMAIL, Channel.SMS})
LOCALES = ("tr", "en")
DEFAULT_LOCALE = "tr"

# Long Turkish names with every Turkish letter: the worst realistic case for an SMS.
_PERSON = {"first_name": "Gülşen Çağla İpek", "last_name": "Şahinoğlu Öztürkmenoğlu"}
_INSTITUTION = "Karadeniz Teknik Üniversitesi Bilgi İşlem Daire Başkanlığı"
_TRACKING = {"tracking_number": "KSM2026112200123456", "carrier": "PTT Kargo"}


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    channels: frozenset[Channel]
    _: KW_ONLY
    sample: dict[str, Any] = field(default_factory=dict)
    secret_fields: tuple[str, ...] = ()  # filled at send time from sealed credentials, never stored


TEMPLATES: dict[str, TemplateSpec] = {
    t.name: t
    for t in [
        TemplateSpec(
            "invitation",
            EMAIL,
            sample={
                **_PERSON,
                "institution_name": _INSTITUTION,
                "expires_at": "2026-12-22T09:00:00+03:00",
                "reissue": False,
                "link": "https://esign.example/apply#token=SAMPLE-TOKEN",
                "password": "SAMPLEPASS23",
            },
            secret_fields=("link", "password"),
        ),
        TemplateSpec("form_completed", EMAIL, sample=dict(_PERSON)),
        TemplateSpec(
            "signed_form_received", EMAIL, sample={**_PERSON, "channel": "cargo_or_post", "received_on": "2026-11-20"}
        ),
        TemplateSpec("application_forwarded", EMAIL, sample=dict(_PERSON)),
        TemplateSpec(
            "application_rejected",
            BOTH,
            sample={
                **_PERSON,
                "reason": "Formdaki ıslak imza eksik; taahhütname sayfası imzalanmamış, lütfen yeniden gönderin.",
            },
        ),
        TemplateSpec(
            "certificate_produced",
            BOTH,
            sample={
                **_PERSON,
                "certificate_serial": "7A3F9C21D4E5B6A7081920",
                "not_after": "2029-11-22T23:59:59+03:00",
                "city": "Kahramanmaraş",
            },
        ),
        TemplateSpec(
            "shipment_handed_to_courier",
            BOTH,
            sample={**_PERSON, **_TRACKING, "query_url": "https://kargo.example.com.tr/gonderi-sorgulama"},
        ),
        TemplateSpec("shipment_out_for_delivery", BOTH, sample={**_PERSON, **_TRACKING}),
        TemplateSpec("shipment_delivered", BOTH, sample={**_PERSON, **_TRACKING}),
        TemplateSpec(
            "shipment_delivery_failed",
            BOTH,
            sample={
                **_PERSON,
                **_TRACKING,
                "reason": "Alıcı adreste bulunamadı, kimlik ibraz edilemedi",
                "query_url": "https://kargo.example.com.tr/gonderi-sorgulama",
            },
        ),
        TemplateSpec(
            "shipment_returned",
            BOTH,
            sample={
                **_PERSON,
                **_TRACKING,
                "reason": "Üç teslim denemesi başarısız oldu; gönderi Kamu SM'ye iade edildi",
            },
        ),
        TemplateSpec(
            "shipment_reshipped",
            BOTH,
            sample={**_PERSON, "carrier": "PTT Kargo", "query_url": "https://kargo.example.com.tr/gonderi-sorgulama"},
        ),
        TemplateSpec(
            "expiry_warning",
            BOTH,
            sample={
                **_PERSON,
                "days_before": 40,
                "not_after": "2026-12-31T23:59:59+03:00",
                "certificate_serial": "7A3F9C21D4E5B6A7081920",
            },
        ),
        # Renewal with e-approval: the holder's e-approval (to the holder and to the officers, who
        # file next), the Renewal Form to approve (its link sealed like the invitation's), and
        # the holder's approval of it. Only the form needs the holder to act: it alone has an SMS.
        TemplateSpec(
            "renewal_e_approved",
            EMAIL,
            sample={**_PERSON, "certificate_serial": "7A3F9C21D4E5B6A7081920", "institution_name": _INSTITUTION},
        ),
        TemplateSpec(
            "renewal_e_approved_officer",
            EMAIL,
            sample={
                "officer_name": "Ayşe Yılmaz",
                "holder_name": "Gülşen Çağla İpek Şahinoğlu Öztürkmenoğlu",
                "institution_name": _INSTITUTION,
            },
        ),
        TemplateSpec(
            "renewal_form",
            BOTH,
            sample={
                **_PERSON,
                "institution_name": _INSTITUTION,
                "expires_at": "2026-12-22T09:00:00+03:00",
                "resend": False,
                "link": "https://esign.example/renew/form#token=SAMPLE-TOKEN",
            },
            secret_fields=("link",),
        ),
        TemplateSpec("renewal_form_approved", EMAIL, sample={**_PERSON, "institution_name": _INSTITUTION}),
        TemplateSpec(
            "officer_digest",
            EMAIL,
            sample={
                "officer_name": "Ayşe Yılmaz",
                "institution_name": "Örnek Üniversitesi",
                "window_days": 60,
                "period": "2026-W48",
                "holders": [
                    {
                        "name": "Gülşen Çağla Şahinoğlu",
                        "email": "g***@ornek.edu.tr",
                        "not_after": "2026-12-31T23:59:59+03:00",
                        "days_left": 39,
                    },
                    {
                        "name": "İsmail Öztürk",
                        "email": "i***@ornek.edu.tr",
                        "not_after": "2027-01-10T23:59:59+03:00",
                        "days_left": 49,
                    },
                ],
            },
        ),
    ]
}

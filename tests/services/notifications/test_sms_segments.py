"""SMS segment counting against 3GPP TS 23.038/23.040, and every SMS template, rendered with long
but realistic data, within two segments, with Turkish letters intact and nothing secret in it."""

from __future__ import annotations

import re

import pytest

from services.notifications.adapters.templates import Renderer
from services.notifications.domain.catalogue import LOCALES, TEMPLATES
from services.notifications.domain.delivery import Channel
from services.notifications.domain.segments import (
    Encoding,
    count_segments,
    fold_for_sms,
)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("€" * 80, Encoding.GSM7, 160, 1),  # extension characters cost two septets
        ("a" * 159 + "[", Encoding.GSM7, 161, 2),
        ("Çöü" + "a" * 157, Encoding.GSM7, 160, 1),  # Ç ö ü are in the default alphabet
        ("ş" + "a" * 153, Encoding.GSM7_TURKISH, 155, 1),  # Turkish single shift: 155 in one SMS
        ("ş" + "a" * 154, Encoding.GSM7_TURKISH, 156, 2),
        ("ğ" * 148, Encoding.GSM7_TURKISH, 296, 2),  # 149 septets per part: 74 two-septet letters each
        ("ğ" * 149, Encoding.GSM7_TURKISH, 298, 3),  # a letter's escape and code are never split across parts
        ("a" * 298, Encoding.GSM7, 298, 2),
        ("İı" + "a" * 151, Encoding.GSM7_TURKISH, 155, 1),
        ("ж" * 70, Encoding.UCS2, 70, 1),
        ("ж" * 71, Encoding.UCS2, 71, 2),
        ("ж" * 134, Encoding.UCS2, 134, 2),
        ("ж" * 135, Encoding.UCS2, 135, 3),
        ("", Encoding.GSM7, 0, 1),
    ],
)
def test_segments(text, encoding, units, segments):
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def test_circumflex_letters_fold_so_a_message_stays_in_the_turkish_table():
    assert fold_for_sms("Kâmil Hâlâ Îmân Ûmit “x”") == 'Kamil Hala İman Umit "x"'
    assert count_segments(fold_for_sms("Kâmil şöyle")).encoding is Encoding.GSM7_TURKISH


SMS_CASES = [(name, locale) for name, spec in TEMPLATES.items() if Channel.SMS in spec.channels for locale in LOCALES]
TCKN_LIKE = re.compile(r"(?<!\d)\d{11}(?!\d)")


@pytest.mark.parametrize(("template", "locale"), SMS_CASES)
def test_every_sms_fits_two_segments_keeps_turkish_letters_and_carries_no_secret(template, locale):
    spec = TEMPLATES[template]
    sms = Renderer().sms(template, locale, spec.sample)
    assert sms.segments.segments <= 2, (sms.text, sms.segments)
    assert sms.segments.encoding is not Encoding.UCS2, sms.text
    if locale == "tr":
        assert any(ch in sms.text for ch in "ğşıİçĞŞÇöüÖÜ")
    assert not TCKN_LIKE.search(sms.text)
    assert "token" not in sms.text.lower() and "SAMPLEPASS" not in sms.text and "#" not in sms.text


def test_secrets_go_only_into_e_mails():
    """The invitation (link, password) has no SMS; the Renewal Form's SMS is rendered without its
    link (the worker opens sealed secrets for e-mail rows only): it must not need it."""
    assert [t.name for t in TEMPLATES.values() if t.secret_fields] == ["invitation", "renewal_form"]
    assert Channel.SMS not in TEMPLATES["invitation"].channels
    spec = TEMPLATES["renewal_form"]
    public = {k: v for k, v in spec.sample.items() if k not in spec.secret_fields}
    for locale in LOCALES:
        assert "renew/form" not in Renderer().sms("renewal_form", locale, public).text

"""Templates: every one renders in both locales, HTML is escaped, dates follow the locale."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from services.notifications.adapters.templates import Renderer, TemplateMissing
from services.notifications.domain.catalogue import LOCALES, TEMPLATES
from services.notifications.domain.delivery import Channel


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders_an_email_in_both_locales(template, locale):
    mail = Renderer().email(template, locale, TEMPLATES[template].sample)
    assert mail.subject and "\n" not in mail.subject
    assert f'<html lang="{locale}">' in mail.html
    assert Renderer().has_sms(template, locale) == (Channel.SMS in TEMPLATES[template].channels)


def test_html_is_escaped_and_text_is_not():
    context = {**TEMPLATES["application_rejected"].sample, "reason": "<script>alert(1)</script> & imza"}
    mail = Renderer().email("application_rejected", "tr", context)
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html and "&amp; imza" in mail.html
    assert "<script>alert(1)</script> & imza" in mail.text


def test_dates_follow_the_locale():
    context = TEMPLATES["expiry_warning"].sample
    assert "31.12.2026" in Renderer().email("expiry_warning", "tr", context).text
    assert "31 Dec 2026" in Renderer().email("expiry_warning", "en", context).text


def test_missing_data_fails_instead_of_sending_a_hole():
    with pytest.raises(UndefinedError):
        Renderer().email("shipment_delivered", "tr", {"first_name": "Ali"})


def test_unknown_locale_is_refused():
    with pytest.raises(TemplateMissing):
        Renderer().email("invitation", "de", TEMPLATES["invitation"].sample)

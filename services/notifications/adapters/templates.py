"""Jinja2 rendering of the message templates in ``services/notifications/templates``.

One file per template and locale (``<locale>/<name>.j2``) with blocks ``subject``, ``text``,
``html`` and ``sms`` (a template without an ``sms`` block has no SMS). The ``html`` block is
rendered by an autoescaping environment and wrapped in ``_layout.html.j2``; the others by a
plain one. Undefined variables raise, so a missing field fails the delivery instead of sending a
message with a hole in it. Addresses of the platform's own pages (the renewal page) are
configuration, not event data: they are template globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup

from services.notifications.domain.catalogue import LOCALES
from services.notifications.domain.segments import (
    SegmentCount,
    count_segments,
    fold_for_sms,
)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_RENEWAL_PAGE_URL = "http://localhost:8001/renew"

_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_CHANNELS = {  # how a signed form reached the officer (applications.signed_form.received `channel`)
    "tr": {"paper": "elden", "email_pdf": "e-postayla PDF", "cargo_or_post": "kargo veya posta"},
    "en": {"paper": "by hand", "email_pdf": "PDF by e-mail", "cargo_or_post": "cargo or post"},
}
_FOOTERS = {
    "tr": "Bu ileti e-imza başvuru sisteminden otomatik gönderilmiştir; lütfen yanıtlamayın.",
    "en": "This message was sent automatically by the e-signature application system; please do not reply.",
}


@pass_context
def _day(context, value: str | datetime) -> str:
    """A date the way the recipient's locale writes it (in the time zone the event gave)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if context.get("locale") == "en":
        return f"{moment.day} {_MONTHS_EN[moment.month - 1]} {moment.year}"
    return moment.strftime("%d.%m.%Y")


class TemplateMissing(LookupError):
    pass


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RenderedSms:
    text: str
    segments: SegmentCount


class Renderer:
    def __init__(self, directory: Path = TEMPLATE_DIR, *, renewal_page_url: str = DEFAULT_RENEWAL_PAGE_URL) -> None:
        def env(autoescape: bool) -> Environment:
            e = Environment(
                loader=FileSystemLoader(directory),
                autoescape=autoescape,
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=False,
            )
            e.filters["day"] = _day
            e.globals["renewal_page_url"] = renewal_page_url
            return e

        self._plain, self._html = env(False), env(True)

    def _block(self, env: Environment, name: str, *, locale: str, block: str, context: dict[str, Any]) -> str | None:
        if locale not in LOCALES:
            raise TemplateMissing(f"no locale {locale!r}")
        try:
            template = env.get_template(f"{locale}/{name}.j2")
        except Exception as exc:
            raise TemplateMissing(f"no template {name!r} for {locale!r}") from exc
        if block not in template.blocks:
            return None
        extra = {"locale": locale}
        if "channel" in context:
            extra["channel_label"] = _CHANNELS[locale].get(context["channel"], context["channel"])
        ctx = template.new_context({**context, **extra})
        return "".join(template.blocks[block](ctx)).strip()

    def has_sms(self, name: str, locale: str) -> bool:
        template = self._plain.get_template(f"{locale}/{name}.j2")
        return "sms" in template.blocks

    def email(self, name: str, locale: str, context: dict[str, Any]) -> RenderedEmail:
        subject = " ".join(
            (self._block(self._plain, name, locale=locale, block="subject", context=context) or "").split()
        )
        text = self._block(self._plain, name, locale=locale, block="text", context=context)
        body = self._block(self._html, name, locale=locale, block="html", context=context)
        if not subject or text is None or body is None:
            raise TemplateMissing(f"template {name!r} ({locale}) has no e-mail")
        html = self._html.get_template("_layout.html.j2").render(
            locale=locale, subject=subject, body=Markup(body), footer=_FOOTERS[locale]
        )
        return RenderedEmail(subject, text + "\n\n-- \n" + _FOOTERS[locale] + "\n", html)

    def sms(self, name: str, locale: str, context: dict[str, Any]) -> RenderedSms:
        raw = self._block(self._plain, name, locale=locale, block="sms", context=context)
        if raw is None:
            raise TemplateMissing(f"template {name!r} ({locale}) has no SMS")
        text = fold_for_sms(" ".join(raw.split()))
        return RenderedSms(text, count_segments(text))

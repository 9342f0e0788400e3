"""The message templates and a preview of any of them with built-in sample data."""

from __future__ import annotations

from fastapi import APIRouter

from esign.problems import Problem, problem_responses
from services.notifications.api.deps import Operator, TemplateRenderer
from services.notifications.api.schemas import (
    EmailPreview,
    PreviewOut,
    SmsPreview,
    TemplateOut,
)
from services.notifications.domain.catalogue import LOCALES, TEMPLATES
from services.notifications.domain.delivery import Channel

router = APIRouter(prefix="/v1/templates", tags=["templates"], responses=problem_responses(401, 403))


@router.get("", response_model=list[TemplateOut], summary="Every message template, its channels and locales")
async def list_templates(_: Operator) -> list[TemplateOut]:
    return [TemplateOut(name=t.name, channels=sorted(t.channels), locales=list(LOCALES)) for t in TEMPLATES.values()]


@router.get(
    "/{template}/preview",
    response_model=PreviewOut,
    responses=problem_responses(404),
    summary="Render a template with sample data (no message is sent)",
)
async def preview(
    template: str, _: Operator, renderer: TemplateRenderer, locale: str = "tr", channel: Channel = Channel.EMAIL
) -> PreviewOut:
    spec = TEMPLATES.get(template)
    if spec is None or locale not in LOCALES or channel not in spec.channels:
        raise Problem(
            404,
            "template_not_found",
            "No such template",
            f"Templates: {', '.join(TEMPLATES)}; locales: {', '.join(LOCALES)}; "
            f"channels of {template!r}: {', '.join(sorted(spec.channels)) if spec else '-'}.",
        )
    if channel is Channel.EMAIL:
        e = renderer.email(template, locale, spec.sample)
        return PreviewOut(
            template=template,
            locale=locale,
            channel=channel,
            email=EmailPreview(subject=e.subject, text=e.text, html=e.html),
        )
    s = renderer.sms(template, locale, spec.sample)
    return PreviewOut(
        template=template,
        locale=locale,
        channel=channel,
        sms=SmsPreview(
            text=s.text, encoding=s.segments.encoding.value, units=s.segments.units, segments=s.segments.segments
        ),
    )

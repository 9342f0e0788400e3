"""The public shipment query, no login: the JSON endpoint and the small Turkish page that calls it."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request

from esign import rate_limit
from esign.pages import static_page_router
from esign.problems import Problem, problem_responses
from services.tracking.api.deps import ReadOnlyUoW
from services.tracking.api.schemas import STATUS_LABELS_TR, PublicStepOut, ShipmentQueryIn, ShipmentQueryOut
from services.tracking.domain.shipment import normalise_tracking_number
from services.tracking.handlers.public_query import query_shipment

router = APIRouter(tags=["public"])

STATIC = Path(__file__).resolve().parent.parent / "static"


def no_match() -> Problem:
    # One answer for an unknown number and for a wrong second factor.
    return Problem(
        404,
        "shipment_query_no_match",
        "No matching shipment",
        "No shipment matches this tracking number and these digits.",
    )


# Counted per client address across replicas (esign/rate_limit.py); a refused or failed query counts.
public_query_rate_limit = rate_limit.per_client_limit(
    "shipment-query",
    lambda settings: rate_limit.RateLimit(settings.public_query_limit, settings.public_query_window_seconds),
)


async def tracking_number_rate_limit(request: Request, tracking_number: str) -> None:
    """Per tracking number, whoever asks: many addresses cannot share out the 10,000 possible
    digits of one parcel. Every query counts, known number or not, right digits or not, so the
    limit itself tells nothing about the number; the price is that someone guessing can make the
    holder wait for the next window."""
    settings = request.app.state.settings
    rule = rate_limit.RateLimit(settings.public_query_number_limit, settings.public_query_number_window_seconds)
    await rate_limit.count_against(request, "shipment-query-number:" + normalise_tracking_number(tracking_number), rule)


@router.post(
    "/v1/public/shipment-queries",
    response_model=ShipmentQueryOut,
    dependencies=[Depends(public_query_rate_limit)],
    summary="Where is my card? Tracking number + last four digits of the mobile -> status timeline and city",
    description="No login. The answer for an unknown tracking number and for wrong digits is the same 404. "
    "Rate limited per client address and per tracking number (429 with Retry-After). POST, so the digits "
    "stay out of URLs and logs.",
    responses=problem_responses(404, 422, 429),
)
async def shipment_query(body: ShipmentQueryIn, uow: ReadOnlyUoW, request: Request) -> ShipmentQueryOut:
    await tracking_number_rate_limit(request, body.tracking_number)
    view = await query_shipment(uow, body.tracking_number, body.mobile_last4)
    if view is None:
        raise no_match()
    return ShipmentQueryOut(
        tracking_number=view.tracking_number,
        status=view.status,
        status_label=STATUS_LABELS_TR[view.status],
        destination_city=view.destination_city,
        timeline=[
            PublicStepOut(status=s.status, label=STATUS_LABELS_TR[s.status], occurred_at=s.occurred_at)
            for s in view.timeline
        ],
    )


# The page loads only its own script (no inline code, no third-party assets): see esign.pages.
router.include_router(
    static_page_router("/gonderi-sorgulama", STATIC, "gonderi-sorgulama", title="Gönderi Sorgulama", tags=["public"])
)

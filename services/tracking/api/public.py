"""The public shipment query, no login: the JSON endpoint and the small Turkish page that calls it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Request

from esign import rate_limit
from esign.pages import static_page_router
from esign.problems import Problem, problem_responses
from services.tracking.api.deps import UoW, client_address
from services.tracking.api.schemas import STATUS_LABELS_TR, PublicStepOut, ShipmentQueryIn, ShipmentQueryOut
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


async def public_query_rate_limit(request: Request) -> None:
    """Counts the call against the client's address in a transaction of its own (committed at
    once), so every replica sees it and a refused or failed query still counts."""
    settings, runtime = request.app.state.settings, request.app.state.runtime
    rule = rate_limit.RateLimit(settings.public_query_limit, settings.public_query_window_seconds)
    now: datetime = request.app.state.clock.now()
    async with runtime.uow() as uow:
        decision = await uow.rate_limits.hit(
            "shipment-query:" + client_address(request, settings.trusted_proxies), rule, now
        )
        await uow.commit()
    if not decision.allowed:
        raise Problem(
            429,
            "rate_limited",
            "Too many requests",
            f"At most {rule.limit} queries per {rule.window_seconds} seconds; try again later.",
            headers={"Retry-After": str(decision.retry_after_seconds)},
            retry_after_seconds=decision.retry_after_seconds,
        )


@router.post(
    "/v1/public/shipment-queries",
    response_model=ShipmentQueryOut,
    dependencies=[Depends(public_query_rate_limit)],
    summary="Where is my card? Tracking number + last four digits of the mobile -> status timeline and city",
    description="No login. The answer for an unknown tracking number and for wrong digits is the same 404. "
    "Rate limited per client address (429 with Retry-After). POST, so the digits stay out of URLs and logs.",
    responses=problem_responses(404, 422, 429),
)
async def shipment_query(body: ShipmentQueryIn, uow: UoW) -> ShipmentQueryOut:
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

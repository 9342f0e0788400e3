"""The delivery log: every message with its status, for CA operators (all) and NES officers
(their institution's); operators re-queue failed and dead ones."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from esign.params import Instant, Limit, Offset
from esign.problems import Problem, problem_responses
from esign.service import ClockDep
from services.notifications.adapters.repositories.deliveries import DeliveryFilter
from services.notifications.api.deps import Operator, Staff, UoW, WakeSender
from services.notifications.api.schemas import DeliveryOut, DeliveryPage
from services.notifications.domain.delivery import Channel, DeliveryStatus
from services.notifications.handlers import resending

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"], responses=problem_responses(401, 403))


@router.get(
    "",
    response_model=DeliveryPage,
    summary="List deliveries, newest first (officers: their institution's)",
    responses=problem_responses(404, 422),
)
async def list_deliveries(
    uow: UoW,
    principal: Staff,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    channel: Channel | None = None,
    template: Annotated[str | None, Query(max_length=60)] = None,
    application_id: uuid.UUID | None = None,
    institution_id: uuid.UUID | None = None,
    since: Annotated[
        Instant | None, Query(description="Created at or after (RFC 3339, with a time zone); before `until`.")
    ] = None,
    until: Annotated[
        Instant | None, Query(description="Created before (RFC 3339, with a time zone); after `since`.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryPage:
    if since and until and since >= until:
        raise Problem(422, "validation_failed", "The request is not valid", "`since` must be before `until`.")
    f = DeliveryFilter(
        status=status_,
        channel=channel.value if channel else None,
        template=template,
        application_id=application_id,
        institution_id=principal.institution_scope(institution_id),
        since=since,
        until=until,
    )
    page = await uow.deliveries.page(f, offset=offset, limit=limit)
    return DeliveryPage(total=page.total, limit=limit, offset=offset, items=[DeliveryOut.of(d) for d in page.items])


@router.get("/{delivery_id}", response_model=DeliveryOut, summary="One delivery", responses=problem_responses(404))
async def get_delivery(delivery_id: uuid.UUID, uow: UoW, principal: Staff) -> DeliveryOut:
    return DeliveryOut.of(await resending.visible_delivery(uow, principal, delivery_id))


@router.post(
    "/{delivery_id}/resend",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-queue a failed or dead delivery (CA operator): same message, fresh attempt count",
    responses=problem_responses(404, 409),
)
async def resend_delivery(
    delivery_id: uuid.UUID, uow: UoW, principal: Operator, clock: ClockDep, wake_sender: WakeSender
) -> DeliveryOut:
    requeued = await resending.resend_delivery(
        resending.ResendDelivery(delivery_id=delivery_id),
        uow,
        principal=principal,
        clock=clock,
        wake_sender=wake_sender,
    )
    return DeliveryOut.of(requeued)

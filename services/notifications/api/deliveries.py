"""The delivery log: every message with its status, for CA operators (all) and NES officers
(their institution's); operators re-queue failed and dead ones."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from esign.auth import Principal, Role
from esign.params import Instant, Limit, Offset
from esign.problems import NotFound, Problem, problem_responses
from services.notifications.adapters.repositories import DeliveryFilter
from services.notifications.api.deps import Operator, Staff, UoW
from services.notifications.api.schemas import DeliveryOut, DeliveryPage
from services.notifications.domain.delivery import RESENDABLE, Channel, DeliveryRecord, DeliveryStatus

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
    total, deliveries = await uow.deliveries.page(f, limit, offset)
    return DeliveryPage(total=total, limit=limit, offset=offset, items=[DeliveryOut.of(d) for d in deliveries])


async def _visible(uow: UoW, principal: Principal, delivery_id: uuid.UUID) -> DeliveryRecord:
    delivery = await uow.deliveries.get(delivery_id)
    if delivery is None or (
        principal.role is Role.INSTITUTION_OFFICER and delivery.institution_id != principal.institution_id
    ):
        raise NotFound("delivery")
    return delivery


@router.get("/{delivery_id}", response_model=DeliveryOut, summary="One delivery", responses=problem_responses(404))
async def get_delivery(delivery_id: uuid.UUID, uow: UoW, principal: Staff) -> DeliveryOut:
    return DeliveryOut.of(await _visible(uow, principal, delivery_id))


@router.post(
    "/{delivery_id}/resend",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-queue a failed or dead delivery (CA operator): same message, fresh attempt count",
    responses=problem_responses(404, 409),
)
async def resend_delivery(delivery_id: uuid.UUID, uow: UoW, principal: Operator, request: Request) -> DeliveryOut:
    requeued = await uow.deliveries.requeue(delivery_id, datetime.now(timezone.utc))
    if requeued is None:
        current = await _visible(uow, principal, delivery_id)
        if current.contact_masked_at is not None:
            raise Problem(
                409,
                "recipient_removed",
                "The recipient of this delivery was removed",
                "Its contact data was masked after its retention period; there is nowhere to send it.",
            )
        raise Problem(
            409,
            "not_resendable",
            "Only failed or dead deliveries can be resent",
            f"This delivery is {current.status}.",
            current_status=current.status,
            resendable=sorted(s.value for s in RESENDABLE),
        )
    uow.after_commit(request.app.state.workers.wake_sender)
    return DeliveryOut.of(requeued)

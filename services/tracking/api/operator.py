"""Operator views (role ca_operator): shipments, their raw carrier events, stuck ones; and the
simulated courier's manual step for local runs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from esign.params import Instant, Limit, Offset
from esign.problems import NotFound, problem_responses
from esign.service import ClockDep
from services.tracking.adapters.repositories.shipments import ShipmentFilter
from services.tracking.api.deps import Operator, Policy, Settings, Simulated, UoW, WakeRegistrar
from services.tracking.api.schemas import (
    AdvanceIn,
    AdvanceOut,
    CarrierEventOut,
    ShipmentDetailOut,
    ShipmentOut,
    ShipmentPage,
    TimelineOut,
)
from services.tracking.domain.shipment import Status
from services.tracking.handlers import simulation
from services.tracking.handlers.shipments import ShipAgain, ship_again

router = APIRouter(tags=["shipments"], responses=problem_responses(401, 403))


async def _page(uow: UoW, f: ShipmentFilter, *, limit: int, offset: int) -> ShipmentPage:
    page = await uow.shipments.page(f, offset=offset, limit=limit)
    return ShipmentPage(total=page.total, limit=limit, offset=offset, items=[ShipmentOut.of(s) for s in page.items])


@router.get(
    "/v1/shipments",
    response_model=ShipmentPage,
    summary="List and filter shipments (newest first)",
    responses=problem_responses(422),
)
async def list_shipments(
    uow: UoW,
    _: Operator,
    status: Annotated[list[Status] | None, Query(description="Repeat to match several.")] = None,
    carrier: Annotated[str | None, Query(max_length=50)] = None,
    city: Annotated[str | None, Query(max_length=100, description="Destination city (case-insensitive).")] = None,
    since: Annotated[Instant | None, Query(description="Created at or after (RFC 3339, with a time zone).")] = None,
    stuck: Annotated[bool | None, Query(description="Only flagged (true) or unflagged (false) shipments.")] = None,
    unregistered: Annotated[
        bool | None, Query(description="Only those still waiting for a tracking number (true).")
    ] = None,
    application_id: uuid.UUID | None = None,
    tracking_number: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ShipmentPage:
    f = ShipmentFilter(
        statuses=status,
        carrier=carrier,
        city=city,
        since=since,
        stuck=stuck,
        unregistered=unregistered,
        application_id=application_id,
        tracking_number=tracking_number,
    )
    return await _page(uow, f, limit=limit, offset=offset)


@router.get(
    "/v1/shipments/stuck",
    response_model=ShipmentPage,
    summary="Stuck shipments: handed over, not delivered or returned within the promised working days",
)
async def stuck_shipments(uow: UoW, _: Operator, limit: Limit = 50, offset: Offset = 0) -> ShipmentPage:
    return await _page(uow, ShipmentFilter(stuck=True), limit=limit, offset=offset)


@router.get(
    "/v1/shipments/{shipment_id}",
    response_model=ShipmentDetailOut,
    summary="One shipment with its timeline and every raw carrier event",
    responses=problem_responses(404, 422),
)
async def get_shipment(shipment_id: uuid.UUID, uow: UoW, _: Operator) -> ShipmentDetailOut:
    shipment = await uow.shipments.record(shipment_id)
    if shipment is None:
        raise NotFound("shipment")
    return ShipmentDetailOut(
        **ShipmentOut.of(shipment).model_dump(),
        delivery_address=shipment.delivery_address,
        timeline=[TimelineOut.model_validate(step) for step in await uow.shipments.timeline(shipment_id)],
        carrier_events=[
            CarrierEventOut.model_validate(event) for event in await uow.carrier_events.for_shipment(shipment_id)
        ],
    )


@router.post(
    "/v1/shipments/{shipment_id}/reship",
    response_model=ShipmentOut,
    status_code=201,
    summary="Ship a returned parcel again",
    description="Only a shipment returned to the sender, and only once: a new shipment (its own id, so its "
    "own idempotency key at the carrier) to the same recipient and address, with the carrier configured "
    "now. The worker registers it like the first; the holder is told at once "
    "(`tracking.shipment.reshipped`) and again with the new tracking number at hand-over. "
    "409 `shipment_not_returned` for any other status, 409 `shipment_already_reshipped` (with "
    "`next_shipment_id`) the second time.",
    responses=problem_responses(404, 409, 422),
)
async def reship(
    shipment_id: uuid.UUID,
    uow: UoW,
    principal: Operator,
    settings: Settings,
    policy: Policy,
    clock: ClockDep,
    wake: WakeRegistrar,
) -> ShipmentOut:
    again = await ship_again(
        ShipAgain(shipment_id=shipment_id, carrier=policy.carrier, carrier_name=settings.carrier_name(policy.carrier)),
        uow,
        principal=principal,
        clock=clock,
        wake_registrar=wake,
    )
    added = await uow.shipments.record(again.id)
    assert added is not None  # added by this transaction
    return ShipmentOut.of(added)


@router.post(
    "/v1/ops/simulated-carrier/shipments/{tracking_number}/advance",
    response_model=AdvanceOut,
    summary="Simulated carrier only: report the parcel's next status (or the one given) through the signed "
    "webhook path",
    responses=problem_responses(404, 409, 422),
)
async def advance_simulated(
    tracking_number: str,
    uow: UoW,
    principal: Operator,
    policy: Policy,
    courier: Simulated,
    clock: ClockDep,
    body: AdvanceIn | None = None,
) -> AdvanceOut:
    body = body or AdvanceIn()
    shipment, outcome = await simulation.advance(
        simulation.AdvanceSimulated(tracking_number=tracking_number, status=body.status, reason=body.reason),
        uow,
        principal=principal,
        clock=clock,
        policy=policy,
        courier=courier,
    )
    return AdvanceOut(
        tracking_number=shipment.tracking_number or tracking_number, status=shipment.status, outcome=outcome
    )

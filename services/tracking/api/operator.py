"""Operator views (role ca_operator): shipments, their raw carrier events, stuck ones; and the
simulated courier's manual step for local runs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from esign.params import Instant, Limit, Offset
from esign.problems import NotFound, problem_responses
from esign.service import ClockDep
from services.tracking.adapters.repositories import ShipmentFilter
from services.tracking.api.deps import Now, Operator, Policy, Settings, Simulated, UoW, WakeRegistrar
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


async def _page(uow: UoW, f: ShipmentFilter, limit: int, offset: int) -> ShipmentPage:
    total, rows = await uow.shipments.list(f, limit, offset)
    return ShipmentPage(total=total, limit=limit, offset=offset, items=[ShipmentOut.from_row(r) for r in rows])


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
    return await _page(
        uow,
        ShipmentFilter(status, carrier, city, since, stuck, unregistered, application_id, tracking_number),
        limit,
        offset,
    )


@router.get(
    "/v1/shipments/stuck",
    response_model=ShipmentPage,
    summary="Stuck shipments: handed over, not delivered or returned within the promised working days",
)
async def stuck_shipments(uow: UoW, _: Operator, limit: Limit = 50, offset: Offset = 0) -> ShipmentPage:
    return await _page(uow, ShipmentFilter(stuck=True), limit, offset)


@router.get(
    "/v1/shipments/{shipment_id}",
    response_model=ShipmentDetailOut,
    summary="One shipment with its timeline and every raw carrier event",
    responses=problem_responses(404, 422),
)
async def get_shipment(shipment_id: uuid.UUID, uow: UoW, _: Operator) -> ShipmentDetailOut:
    row = await uow.shipments.row(shipment_id)
    if row is None:
        raise NotFound("shipment")
    base = ShipmentOut.from_row(row)
    return ShipmentDetailOut(
        **base.model_dump(),
        delivery_address=row.delivery_address,
        timeline=[TimelineOut.model_validate(r._mapping) for r in await uow.shipments.timeline(shipment_id)],
        carrier_events=[
            CarrierEventOut.model_validate(r._mapping) for r in await uow.carrier_events.for_shipment(shipment_id)
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
        ShipAgain(shipment_id, policy.carrier, settings.carrier_name(policy.carrier)),
        uow,
        principal=principal,
        clock=clock,
        wake_registrar=wake,
    )
    row = await uow.shipments.row(again.id)
    return ShipmentOut.from_row(row)


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
    _: Operator,
    policy: Policy,
    courier: Simulated,
    now: Now,
    body: AdvanceIn | None = None,
) -> AdvanceOut:
    body = body or AdvanceIn()
    shipment, outcome = await simulation.advance(uow, policy, courier, tracking_number, now, body.status, body.reason)
    return AdvanceOut(
        tracking_number=shipment.tracking_number or tracking_number, status=shipment.status, outcome=outcome
    )

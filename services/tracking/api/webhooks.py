"""Carrier status webhooks."""

from __future__ import annotations

from fastapi import APIRouter, Request

from esign.problems import Problem, problem_responses
from esign.service import ClockDep
from services.tracking.adapters.carriers import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.tracking.api.deps import Policy, UoW
from services.tracking.api.schemas import WebhookAccepted
from services.tracking.handlers.carrier_events import CarrierReport, ReceiveCarrierReport, accept_webhook

router = APIRouter(tags=["carrier"])
WEBHOOK_PATH = "/v1/carrier/webhooks"

MAX_BODY_BYTES = 64 * 1024


@router.post(
    WEBHOOK_PATH,
    response_model=WebhookAccepted,
    summary="A carrier's status report (HMAC-signed; no bearer token)",
    description=(
        f"Signed with the shared secret: "
        f'`{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` and '
        f"`{TIMESTAMP_HEADER}: <Unix seconds>`. Refused when unsigned, mis-signed, older or newer than the tolerance, "
        "or a replay of an accepted call. Every accepted report is kept verbatim; duplicates and out-of-order reports "
        "never move a shipment backwards."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": CarrierReport.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        }
    },
    responses=problem_responses(401, 409, 413, 422),
)
async def carrier_webhook(request: Request, uow: UoW, policy: Policy, clock: ClockDep) -> WebhookAccepted:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Problem(413, "payload_too_large", "Payload too large", f"A report is at most {MAX_BODY_BYTES} bytes.")
    call = ReceiveCarrierReport(
        body=body, timestamp=request.headers.get(TIMESTAMP_HEADER), signature=request.headers.get(SIGNATURE_HEADER)
    )
    outcome = await accept_webhook(call, uow, policy=policy, clock=clock)
    return WebhookAccepted(outcome=outcome)

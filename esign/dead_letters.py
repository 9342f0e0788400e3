"""Operator endpoints for messages that exhausted their deliveries: list them, replay one.

Each service serves its own at ``/v1/dead-letters/<service>``: the service's name in the path
lets the one public origin (the route table, the Ingress) send each to its owner, so the console
reaches every service's dead letters in production too, as an ordinary operator API (the services
check the role). ``/v1/ops`` stays inside the cluster for what only tests and local runs use (the
simulated carrier)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from esign.auth import Principal, Role, require
from esign.messaging_tables import PAYLOAD_REMOVED
from esign.params import Limit
from esign.problems import NotFound, Problem, problem_responses


class DeadLetterOut(BaseModel):
    id: uuid.UUID
    consumer: str
    subject: str
    event_id: uuid.UUID | None
    error: str
    deliveries: int
    created_at: datetime
    replayed_at: datetime | None
    payload_removed: bool = Field(
        description="The failed message was removed after its retention period (DEAD_LETTERS_KEEP_DAYS): "
        "the letter says what failed and when, and can no longer be replayed."
    )


class ReplayOut(BaseModel):
    id: uuid.UUID
    applied: bool


Operator = Annotated[Principal, Depends(require(Role.CA_OPERATOR))]


def dead_letters_router(service: str) -> APIRouter:
    """The dead-letter endpoints of ``service``, under ``/v1/dead-letters/<service>``."""
    router = APIRouter(
        prefix=f"/v1/dead-letters/{service}", tags=["dead letters"], responses=problem_responses(401, 403)
    )
    router.get(
        "",
        summary="List dead-lettered events (CA operator)",
        description=f"Events the {service} service's consumers gave up on, newest first (docs/events.md).",
        response_model=list[DeadLetterOut],
    )(list_dead_letters)
    router.post(
        "/{dead_letter_id}/replay",
        summary="Run a dead-lettered event's handler again (CA operator)",
        description="Once the cause is fixed. 409 `replay_failed` when the handler fails again (the letter stays); "
        "409 `payload_removed` when the message was removed after its retention period.",
        response_model=ReplayOut,
        responses=problem_responses(404, 409),
    )(replay_dead_letter)
    return router


async def list_dead_letters(
    request: Request, _: Operator, include_replayed: bool = False, limit: Limit = 100
) -> list[DeadLetterOut]:
    runtime = request.app.state.runtime
    dl = runtime.definition.tables.dead_letters
    query = sa.select(dl).order_by(dl.c.created_at.desc()).limit(limit)
    if not include_replayed:
        query = query.where(dl.c.replayed_at.is_(None))
    async with runtime.session_factory() as session:
        rows = (await session.execute(query)).all()
    return [DeadLetterOut.model_validate({**r._mapping, "payload_removed": r.payload == PAYLOAD_REMOVED}) for r in rows]


async def replay_dead_letter(request: Request, _: Operator, dead_letter_id: uuid.UUID) -> ReplayOut:
    runtime = request.app.state.runtime
    dl = runtime.definition.tables.dead_letters
    async with runtime.session_factory() as session:
        letter = (
            await session.execute(sa.select(dl.c.consumer, dl.c.payload).where(dl.c.id == dead_letter_id))
        ).first()
    runner = next((c for c in runtime.consumers if letter and c.spec.name == letter.consumer), None)
    if letter is None or runner is None:
        raise NotFound("dead letter")
    if letter.payload == PAYLOAD_REMOVED:
        raise Problem(
            409,
            "payload_removed",
            "Message removed",
            "The failed message was removed after its retention period; it cannot be replayed.",
        )
    try:
        applied = await runner.replay(dead_letter_id)
    except Exception as exc:
        raise Problem(
            409, "replay_failed", "Replay failed", f"The handler failed again: {type(exc).__name__}."
        ) from exc
    return ReplayOut(id=dead_letter_id, applied=applied)

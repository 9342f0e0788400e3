"""The bare stack the API benchmarks compare against: FastAPI and asyncpg on the same database,
the same queries and the same JSON, and nothing else (no auth, no middleware, no unit of work, no
ORM). Run under the same uvicorn settings as the services:

    BENCH_DATABASE_URL=postgresql://... uvicorn bench.bare_api:create_app --factory
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Request

from esign.field_crypto import FieldCipher, FieldKeys
from services.applications.adapters.personal_data import PeopleCodec

VIEW = """
SELECT a.id, a.institution_id, a.status, a.form, a.signed_form, a.batch_id, a.rejection_reason,
       a.certificate, a.shipment, a.created_at, a.updated_at,
       a.person_id, p.tckn_encrypted, p.first_name, p.last_name, p.birth_date_encrypted,
       p.title, p.unit, p.email, p.mobile,
       i.state AS invitation_state, i.expires_at AS invitation_expires_at,
       i.locked_until AS invitation_locked_until, i.times_issued AS invitation_times_issued
FROM applications a JOIN people p ON p.id = a.person_id LEFT JOIN invitations i ON i.application_id = a.id
"""
# The applications keys from the environment; random when only the tracking tables are served.
_KEYS = FieldKeys.generate()
CODEC = PeopleCodec(
    FieldCipher(
        FieldKeys.parse(
            os.environ.get("ESIGN_APPLICATIONS_FIELD_KEYS", _KEYS[0]),
            os.environ.get("ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY", _KEYS[1]),
        )
    )
)
ONE = VIEW + " WHERE a.id = $1"
COUNT = (
    "SELECT count(*) FROM applications a JOIN people p ON p.id = a.person_id"
    " WHERE a.institution_id = $1 AND a.status = $2"
)
PAGE = (
    VIEW + " WHERE a.institution_id = $1 AND a.status = $2 ORDER BY p.last_name, p.first_name, a.id LIMIT $3 OFFSET $4"
)
SHIPMENT = "SELECT id, mobile, city, status FROM shipments WHERE tracking_number = $1"
TIMELINE = "SELECT status, occurred_at, location FROM shipment_timeline WHERE shipment_id = $1 ORDER BY id"


def as_json(row: asyncpg.Record) -> dict[str, Any]:
    # Like the service, the baseline decrypts the TC Kimlik No and birth date before masking them.
    tckn = CODEC.open_tckn(row["person_id"], row["tckn_encrypted"])
    birth_date = CODEC.open_birth_date(row["person_id"], row["birth_date_encrypted"])
    return {
        "id": row["id"],
        "institution_id": row["institution_id"],
        "status": row["status"],
        "person": {
            "tckn_masked": tckn[:3] + "******" + tckn[-2:],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "birth_date_masked": "**.**." + str(birth_date.year),
            "title": row["title"],
            "unit": row["unit"],
            "email": row["email"],
            "mobile": row["mobile"],
        },
        "form": row["form"],
        "invitation": {
            "state": row["invitation_state"],
            "expires_at": row["invitation_expires_at"],
            "locked_until": row["invitation_locked_until"],
            "times_issued": row["invitation_times_issued"],
        },
        "signed_form": row["signed_form"],
        "batch_id": row["batch_id"],
        "rejection_reason": row["rejection_reason"],
        "certificate": row["certificate"],
        "shipment": row["shipment"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def shipment_answer(tracking_number: str, row: asyncpg.Record, steps: list[asyncpg.Record]) -> dict[str, Any]:
    return {
        "tracking_number": tracking_number,
        "status": row["status"],
        "status_label": row["status"],
        "destination_city": row["city"],
        "timeline": [{"status": s["status"], "label": s["status"], "occurred_at": s["occurred_at"]} for s in steps],
    }


async def decode_jsonb(conn: asyncpg.Connection) -> None:
    # As the services' SQLAlchemy does: JSONB columns arrive as Python objects, not strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=10, init=decode_jsonb
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/applications/{application_id}")
    async def one(application_id: str, request: Request) -> dict[str, Any]:
        row = await request.app.state.pool.fetchrow(ONE, application_id)
        if row is None:
            raise HTTPException(404)
        return as_json(row)

    @app.get("/applications")
    async def page(institution_id: str, status: str, request: Request, limit: int = 50, offset: int = 0) -> dict:
        async with request.app.state.pool.acquire() as conn:
            total = await conn.fetchval(COUNT, institution_id, status)
            rows = await conn.fetch(PAGE, institution_id, status, limit, offset)
        return {"total": total, "limit": limit, "offset": offset, "items": [as_json(r) for r in rows]}

    @app.post("/shipment-queries")
    async def shipment(body: dict[str, str], request: Request) -> dict[str, Any]:
        async with request.app.state.pool.acquire() as conn:
            row = await conn.fetchrow(SHIPMENT, body["tracking_number"])
            if row is None or row["mobile"][-4:] != body["mobile_last4"]:
                raise HTTPException(404)
            steps = await conn.fetch(TIMELINE, row["id"])
        return shipment_answer(body["tracking_number"], row, steps)

    return app

"""The stack's floor: the bare endpoints of ``bench/bare_api.py`` with, one rung at a time, the
parts of the stack a service cannot do without, and none of the service's own code. What each
rung costs against the bare endpoint, measured in the same run, is how far a target can be met
on this stack at all (``bench/stack_floor.py`` drives it; docs/benchmarks.md has the figures).

``GET /applications/{id}`` (benchmark 1):

- ``/auth-model/{id}``: the bearer token verified by a FastAPI dependency (``esign.auth.require``,
  the services' own) and the answer built and serialised by the service's pydantic model;
- ``/sqlalchemy-pool/{id}``: that, with the connection checked out of SQLAlchemy's pool (an
  autocommit connection, as a service's read-only unit of work holds) and the read on asyncpg;
- ``/sqlalchemy-core/{id}``: that, with the read executed by SQLAlchemy Core.

``GET /applications?institution_id=&status=&limit=50`` (benchmark 1's list), the same first two
rungs: ``/pages/auth-model`` (the page built by the service's ``ApplicationPage``) and
``/pages/sqlalchemy-pool``.

``POST /shipment-queries`` (benchmark 6):

- ``/counted/shipment-queries``: the bare lookup after the two rate-limit counts in PostgreSQL
  (per address and per tracking number, the services' own upsert), all on asyncpg;
- ``/counted-models/shipment-queries``: that, with the service's request and answer models.

    BENCH_DATABASE_URL=... BENCH_TRACKING_URL=... BENCH_JWT_SECRET=... uvicorn bench.floor_api:create_app --factory
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Request

from bench.bare_api import COUNT as PAGE_TOTAL
from bench.bare_api import ONE, PAGE, SHIPMENT, TIMELINE, as_json, decode_jsonb, shipment_answer
from esign.auth import Principal, Role, TokenVerifier, require
from esign.db import make_engine
from esign.rate_limit import COUNT, window_start
from services.applications.api.schemas import ApplicationOut, ApplicationPage
from services.tracking.api.schemas import STATUS_LABELS_TR, ShipmentQueryIn, ShipmentQueryOut

Reader = Annotated[Principal, Depends(require(Role.CA_OPERATOR, Role.INSTITUTION_OFFICER, Role.APPLICANT))]
ONE_CORE = sa.text(ONE.replace("$1", ":id"))


def as_model(row: Any) -> ApplicationOut:
    answer = as_json(row)
    # The bare JSON lacks three of the model's fields; the values are the service's for this row.
    return ApplicationOut.model_validate(
        {**answer, "institution_name": "Bench Üniversitesi", "person": {**answer["person"], "birth_place": None}}
    )


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=10, init=decode_jsonb
        )
        app.state.tracking = await asyncpg.create_pool(
            os.environ["BENCH_TRACKING_URL"], min_size=1, max_size=10, init=decode_jsonb
        )
        # As a service's read-only unit of work: its pool (the services' default size) and autocommit.
        app.state.engine = make_engine(os.environ["BENCH_DATABASE_URL"], pool_size=15, max_overflow=0)
        app.state.reads = app.state.engine.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield
        finally:
            await app.state.pool.close()
            await app.state.tracking.close()
            await app.state.engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.state.token_verifier = TokenVerifier(audience="esign", local_secret=os.environ["BENCH_JWT_SECRET"])

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/auth-model/{application_id}", response_model=ApplicationOut)
    async def auth_model(application_id: uuid.UUID, request: Request, principal: Reader) -> ApplicationOut:
        row = await request.app.state.pool.fetchrow(ONE, application_id)
        if row is None:
            raise HTTPException(404)
        return as_model(row)

    @app.get("/sqlalchemy-pool/{application_id}", response_model=ApplicationOut)
    async def sqlalchemy_pool(application_id: uuid.UUID, request: Request, principal: Reader) -> ApplicationOut:
        async with request.app.state.reads.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            row = await driver.fetchrow(ONE, application_id)
        if row is None:
            raise HTTPException(404)
        return as_model(row)

    @app.get("/sqlalchemy-core/{application_id}", response_model=ApplicationOut)
    async def sqlalchemy_core(application_id: uuid.UUID, request: Request, principal: Reader) -> ApplicationOut:
        async with request.app.state.reads.connect() as connection:
            row = (await connection.execute(ONE_CORE, {"id": application_id})).first()
        if row is None:
            raise HTTPException(404)
        return as_model(row._mapping)

    async def page_of(connection: asyncpg.Connection, institution_id: str, status: str, limit: int) -> ApplicationPage:
        total = await connection.fetchval(PAGE_TOTAL, institution_id, status)
        rows = await connection.fetch(PAGE, institution_id, status, limit, 0)
        return ApplicationPage(total=total, limit=limit, offset=0, items=[as_model(row) for row in rows])

    @app.get("/pages/auth-model", response_model=ApplicationPage)
    async def auth_model_page(
        institution_id: str, status: str, request: Request, principal: Reader, limit: int = 50
    ) -> ApplicationPage:
        async with request.app.state.pool.acquire() as connection:
            return await page_of(connection, institution_id, status, limit)

    @app.get("/pages/sqlalchemy-pool", response_model=ApplicationPage)
    async def sqlalchemy_pool_page(
        institution_id: str, status: str, request: Request, principal: Reader, limit: int = 50
    ) -> ApplicationPage:
        async with request.app.state.reads.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            return await page_of(driver, institution_id, status, limit)

    async def counted_lookup(pool: asyncpg.Pool, number: str, digits: str) -> tuple[asyncpg.Record, list]:
        start = window_start(datetime.now(UTC), 60)
        for bucket in ("shipment-query:127.0.0.1", f"shipment-query-number:{number}"):
            await pool.fetchval(COUNT.sql, *COUNT.arguments({"bucket": bucket, "window_start": start}))
        async with pool.acquire() as conn:
            row = await conn.fetchrow(SHIPMENT, number)
            if row is None or row["mobile"][-4:] != digits:
                raise HTTPException(404)
            return row, await conn.fetch(TIMELINE, row["id"])

    @app.post("/counted/shipment-queries")
    async def counted(body: dict[str, str], request: Request) -> dict[str, Any]:
        row, steps = await counted_lookup(request.app.state.tracking, body["tracking_number"], body["mobile_last4"])
        return shipment_answer(body["tracking_number"], row, steps)

    @app.post("/counted-models/shipment-queries", response_model=ShipmentQueryOut)
    async def counted_models(body: ShipmentQueryIn, request: Request) -> ShipmentQueryOut:
        row, steps = await counted_lookup(request.app.state.tracking, body.tracking_number, body.mobile_last4)
        return ShipmentQueryOut(
            tracking_number=body.tracking_number,
            status=row["status"],
            status_label=STATUS_LABELS_TR[row["status"]],
            destination_city=row["city"],
            timeline=[
                {"status": s["status"], "label": STATUS_LABELS_TR[s["status"]], "occurred_at": s["occurred_at"]}
                for s in steps
            ],
        )

    return app

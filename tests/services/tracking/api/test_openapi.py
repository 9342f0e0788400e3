"""The OpenAPI document describes every endpoint and its problem responses; health works."""

from __future__ import annotations

from tests.support.openapi import undocumented

PAGES = {
    "/livez",
    "/readyz",
    "/metrics",
    "/gonderi-sorgulama",
    "/gonderi-sorgulama/app.js",
    "/gonderi-sorgulama/style.css",
}


async def test_openapi_documents_every_operation_with_problems(client):
    doc = (await client.get("/openapi.json")).json()
    assert "ProblemDetail" in doc["components"]["schemas"]
    assert undocumented(doc, PAGES) == []
    webhook = doc["paths"]["/v1/carrier/webhooks"]["post"]
    assert set(webhook["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "event_id",
        "tracking_number",
        "status",
        "occurred_at",
    }


async def test_health(client):
    ready = (await client.get("/readyz")).json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "nats": "ok"}}

"""The OpenAPI document describes every endpoint and its problem responses; health works."""

from __future__ import annotations

PAGES = {"/livez", "/readyz", "/metrics", "/gonderi-sorgulama", "/gonderi-sorgulama/app.js", "/gonderi-sorgulama/style.css"}


async def test_openapi_documents_every_operation_with_problems(client):
    doc = (await client.get("/openapi.json")).json()
    assert "ProblemDetail" in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method} {path} has no summary"
            if path in PAGES:
                continue
            problems = [s for s, r in op["responses"].items() if s.startswith("4")
                        and "application/problem+json" in r.get("content", {})]
            assert problems, f"{method} {path} documents no problem response"
    webhook = doc["paths"]["/v1/carrier/webhooks"]["post"]
    assert set(webhook["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "event_id", "tracking_number", "status", "occurred_at"}


async def test_health(client):
    ready = (await client.get("/readyz")).json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "nats": "ok"}}

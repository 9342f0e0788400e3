"""The OpenAPI document describes every endpoint, its auth and its problem responses."""

from __future__ import annotations

from tests.support.openapi import undocumented

PAGES = {
    *("/livez", "/readyz", "/metrics"),
    *("/apply", "/apply/app.js", "/apply/style.css"),
    *("/renew", "/renew/form", "/renew/app.js", "/renew/agent-client.js", "/renew/style.css"),
}
# A redirect; its only refusal (503, sign-in not configured) is documented, it has no 4xx.
PAGES |= {"/auth/login"}


async def test_openapi_documents_every_operation_with_problems(client):
    doc = (await client.get("/openapi.json")).json()
    assert "ProblemDetail" in doc["components"]["schemas"]
    assert undocumented(doc, PAGES) == []


async def test_health_and_metrics(client):
    assert (await client.get("/livez")).json() == {"status": "ok"}
    ready = (await client.get("/readyz")).json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "nats": "ok"}}
    metrics = (await client.get("/metrics")).text
    assert "esign_http_requests_total" in metrics


async def test_request_ids_are_echoed_and_made_when_missing(client):
    r = await client.get("/livez", headers={"X-Request-ID": "req-12345678"})
    assert r.headers["x-request-id"] == "req-12345678"
    r = await client.get("/livez", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces" and len(r.headers["x-request-id"]) == 32

"""The per-request middleware (plain ASGI since issue 13): request ids, Cache-Control on API
answers unless the endpoint chose, metrics per route, one log line per request with its id."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI, Response
from prometheus_client import REGISTRY

from esign.observability import configure_logging, install_request_middleware


def make_app() -> FastAPI:
    app = FastAPI()
    install_request_middleware(app, "mwtest")

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.get("/v1/cacheable")
    async def cacheable(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "max-age=60"
        return {}

    @app.get("/page")
    async def page() -> dict[str, str]:
        return {}

    return app


def counted(route: str, status: str) -> float:
    labels = {"service": "mwtest", "method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("esign_http_requests_total", labels) or 0.0


async def test_ids_cache_control_metrics_and_one_log_line(capfd):
    configure_logging("INFO", json_output=True)
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        before = counted("/v1/things/{thing_id}", "200")
        r = await client.get("/v1/things/a1", headers={"X-Request-ID": "req-12345678"})
        assert r.json() == {"id": "a1"}
        assert r.headers["x-request-id"] == "req-12345678"
        assert r.headers["cache-control"] == "no-store"
        assert counted("/v1/things/{thing_id}", "200") == before + 1

        r = await client.get("/v1/cacheable", headers={"X-Request-ID": "bad id"})
        assert r.headers["cache-control"] == "max-age=60"  # the endpoint's choice stands
        assert len(r.headers["x-request-id"]) == 32 and r.headers["x-request-id"] != "bad id"

        r = await client.get("/page")
        assert "cache-control" not in r.headers

        r = await client.get("/nowhere")
        assert r.status_code == 404 and "cache-control" not in r.headers
        assert counted("unmatched", "404") >= 1

    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request" and line.get("service") == "mwtest"]
    first = next(line for line in requests if line["route"] == "/v1/things/{thing_id}")
    assert first["request_id"] == "req-12345678" and first["status"] == 200 and first["method"] == "GET"
    assert "a1" not in json.dumps(first)  # the route template is logged, not the path

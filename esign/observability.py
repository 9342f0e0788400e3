"""JSON logs with personal data scrubbed, request ids, Prometheus metrics, health endpoints."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# --------------------------------------------------------------------------- log scrubbing

_SECRET_KEYS = {
    "password",
    "access_password",
    "token",
    "link_token",
    "pin",
    "authorization",
    "security_word",
    "sealed_credentials",
    "secret",
    "jwt_secret",
    "private_key",
}
# Eleven digits standing alone (not inside an id or a hex string) are treated as a TC Kimlik No.
_TCKN = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{6}(\d{2})(?![0-9A-Za-z])")
_ISO_DATE = re.compile(r"\b(\d{4})-\d{2}-\d{2}\b")


def scrub(value: Any, key: str = "") -> Any:
    """Masks TC Kimlik Nos anywhere, birth dates under birth-ish keys, drops secrets entirely."""
    k = key.lower()
    if k in _SECRET_KEYS or k.endswith(("_password", "_token", "_secret")):
        return "[redacted]"
    if isinstance(value, str):
        masked = _TCKN.sub(r"\1******\2", value)
        # A traceback's text can hold whatever the failing request carried (a birth date typed
        # into a search): dates in it are masked whatever the key.
        if "birth" in k or k == "exception":
            masked = _ISO_DATE.sub(r"****-**-**", masked)
        return masked
    if isinstance(value, dict):
        return {kk: scrub(vv, str(kk)) for kk, vv in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, key) for v in value]
    return value


# Fields whose values this module and structlog make themselves, and which hold no personal data
# by construction: a validated request id, a route template, a method, a status, a duration, the
# level, the time. Every request's line is made of them, and scrubbing them was a twentieth of a
# read's CPU (docs/benchmarks.md). Whatever else a line carries is scrubbed.
_MADE_HERE = frozenset({"request_id", "service", "method", "route", "status", "ms", "level", "timestamp"})


def _scrub_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return {k: v if k in _MADE_HERE else scrub(v, k) for k, v in event_dict.items()}


class _StderrPrinter:
    """Writes each rendered line to whatever ``sys.stderr`` is at that moment (so redirected or
    captured stderr, e.g. under a process manager or pytest, receives the logs)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


class _StderrHandler(logging.Handler):
    """A stdlib handler writing to whatever ``sys.stderr`` is at that moment (see _StderrPrinter)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging's own protocol: a failing handler reports via handleError
            self.handleError(record)


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _scrub_processor,  # last before rendering, so nothing added earlier escapes it
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_: _StderrPrinter(),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library (uvicorn's errors, nats-py's connection errors,
    # asyncio's lost task exceptions): the same JSON lines, scrubbed the same way, one line each
    # with the traceback as a field instead of a multi-line plain-text dump.
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _scrub_processor,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries' warnings and errors only (as Python's last-resort handler did): their info lines
    # (httpx's one per request, with its URL) are not ours to publish.
    root.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    # uvicorn installs plain-text handlers of its own before it loads the app: hand its loggers to ours.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # uvicorn's own access log would print raw paths and query strings; ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True


# --------------------------------------------------------------------------- requests

REQUESTS = Counter("esign_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("esign_http_request_seconds", "HTTP request latency", ["service", "method", "route"])

log = structlog.get_logger("esign.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_UNLOGGED_ROUTES = frozenset({"/livez", "/readyz", "/metrics"})


class RequestContextMiddleware:
    """Request id (kept from ``X-Request-ID`` if well-formed, else new), bound to every log line
    of the request and sent back; metrics and one log line per request; ``Cache-Control:
    no-store`` on API answers. Plain ASGI rather than ``@app.middleware("http")``: Starlette's
    BaseHTTPMiddleware runs the app in a task and streams its response through a memory channel,
    which cost more per request than the work of a read."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, service=self.service)
        # API answers carry names, contacts and addresses: no browser or proxy keeps them, unless
        # an endpoint decided otherwise.
        no_store = scope["path"].startswith("/v1/")
        status = 500
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if no_store and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
        elapsed = time.perf_counter() - started
        route = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        REQUESTS.labels(self.service, method, route, status).inc()
        LATENCY.labels(self.service, method, route).observe(elapsed)
        if route not in _UNLOGGED_ROUTES:
            log.info("request", method=method, route=route, status=status, ms=round(elapsed * 1000, 1))


def install_request_middleware(app: FastAPI, service: str) -> None:
    app.add_middleware(RequestContextMiddleware, service=service)


# --------------------------------------------------------------------------- health

ReadinessCheck = Callable[[], Awaitable[None]]


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/livez", summary="Liveness: the process is up")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database and NATS reachable",
        responses={503: {"description": "A dependency is down"}},
    )
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure of a dependency is "down", never a 500
                results[name] = f"down: {type(exc).__name__}"
        ok = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": results}, status_code=200 if ok else 503
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router

"""Handler and webhook refusals -> RFC 9457 problems, in one place."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from esign.problems import Problem, problem_response
from esign.webhooks import WebhookRefused
from services.tracking.handlers.errors import WebhookReplayed

log = structlog.get_logger("tracking.api")


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def install_error_handlers(app: FastAPI) -> None:
    async def refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WebhookRefused)
        # Logged without the body: it holds a recipient's data and, if forged, whatever an attacker chose.
        log.warning(
            "webhook_refused",
            code=exc.code,
            client=_client(request),
            body_bytes=int(request.headers.get("content-length") or 0),
        )
        return problem_response(Problem(401, f"webhook_{exc.code}", "Webhook not authenticated", exc.message), request)

    async def replayed(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WebhookReplayed)
        log.warning("webhook_refused", code=exc.code, client=_client(request))
        return problem_response(exc.problem(), request)

    app.add_exception_handler(WebhookRefused, refused)
    app.add_exception_handler(WebhookReplayed, replayed)

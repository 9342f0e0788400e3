"""Interactive API docs (Swagger UI) served by the service itself, with no CDN: the page, its
script and style sheet come from the pinned ``fastapi-offline`` package's copy of Swagger UI 5
(only its files are used), the page's own start-up script is a file (no inline code), and every
URL in the page is relative, so the same page works at ``/docs`` on the service's own port and
at ``/docs/<service>/`` through the one origin (esign.routes)."""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

_ASSETS = files("fastapi_offline") / "static"
_HERE = Path(__file__).parent / "api_docs_static"
_FILES = {
    "swagger-ui-bundle.js": (_ASSETS / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_ASSETS / "swagger-ui.css", "text/css"),
    "favicon.png": (_ASSETS / "favicon.png", "image/png"),
    "start.js": (_HERE / "start.js", "text/javascript"),
}
DOCS_HEADERS = {
    # Swagger UI sets inline styles from its script; everything else is the page's own.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def api_docs_router(title: str) -> APIRouter:
    page = (_HERE / "docs.html").read_text(encoding="utf-8").replace("{title}", html.escape(title))
    assets = {name: (path.read_bytes(), media_type) for name, (path, media_type) in _FILES.items()}
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=DOCS_HEADERS)

    @router.get("/docs/{name}")
    async def docs_asset(name: str) -> Response:
        if name not in assets:
            return Response(status_code=404)
        body, media_type = assets[name]
        return Response(body, media_type=media_type, headers=DOCS_HEADERS)

    return router

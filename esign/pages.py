"""Small static pages a service serves itself (an HTML page, its one script and its style sheet)
with strict security headers: the page may load only its own script, style and API (no inline
code, no third-party assets), may not be framed, and sends no referrer."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The files change with a deployment: the browser may keep them but must ask again each time.
    "Cache-Control": "no-cache",
}


def static_page_router(
    path: str, static_dir: Path, stem: str, *, title: str, tags: list[str | Enum] | None = None
) -> APIRouter:
    """``GET path`` answers ``<stem>.html``, ``GET path/app.js`` ``<stem>.js`` and
    ``GET path/style.css`` ``<stem>.css``, all from ``static_dir``. The HTML must refer to its
    script and style sheet by those two URLs. Files are read once, here: a missing one fails at
    start-up rather than on a user's request."""
    html = (static_dir / f"{stem}.html").read_text(encoding="utf-8")
    script = (static_dir / f"{stem}.js").read_text(encoding="utf-8")
    style = (static_dir / f"{stem}.css").read_text(encoding="utf-8")
    router = APIRouter(tags=tags or ["pages"])

    @router.get(path, response_class=HTMLResponse, summary=f"{title}: the page")
    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers=PAGE_HEADERS)

    @router.get(
        f"{path}/app.js",
        summary=f"{title}: the page's script",
        responses={200: {"content": {"text/javascript": {}}, "description": "JavaScript"}},
    )
    async def page_script() -> Response:
        return Response(script, media_type="text/javascript", headers=PAGE_HEADERS)

    @router.get(
        f"{path}/style.css",
        summary=f"{title}: the page's style sheet",
        responses={200: {"content": {"text/css": {}}, "description": "CSS"}},
    )
    async def page_style() -> Response:
        return Response(style, media_type="text/css", headers=PAGE_HEADERS)

    return router

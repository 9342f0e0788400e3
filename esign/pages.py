"""Small static pages a service serves itself (an HTML page, its one script and its style sheet)
with strict security headers: the page may load only its own script, style and API (no inline
code, no third-party assets), may not be framed, and sends no referrer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

# Scripts more than one page loads, served by each page under its own path (same origin, so the
# CSP's script-src 'self' covers them). The agent client is the one in docs/agent-protocol.md.
SHARED_STATIC = Path(__file__).parent / "static"
AGENT_CLIENT = SHARED_STATIC / "agent-client.js"
# Where a page that drives esign-agent may connect besides its own origin: the agent listens on
# the loopback address only, on 47100 unless IT chose another port (hence the port wildcard).
AGENT_CONNECT_SOURCES = ("ws://127.0.0.1:*",)


def page_headers(connect_sources: Sequence[str] = ()) -> dict[str, str]:
    connect = " ".join(("'self'", *connect_sources))
    return {
        "Content-Security-Policy": f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src {connect}; "
        "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # The files change with a deployment: the browser may keep them but must ask again each time.
        "Cache-Control": "no-cache",
    }


def static_page_router(
    path: str,
    static_dir: Path,
    stem: str,
    *,
    title: str,
    tags: list[str | Enum] | None = None,
    also_at: Sequence[str] = (),
    shared_scripts: Mapping[str, Path] | None = None,
    connect_sources: Sequence[str] = (),
) -> APIRouter:
    """``GET path`` answers ``<stem>.html``, ``GET path/app.js`` ``<stem>.js`` and
    ``GET path/style.css`` ``<stem>.css``, all from ``static_dir``. The HTML must refer to its
    script and style sheet by those two URLs. ``also_at``: further paths answering the same HTML
    (one page with several views, its script picks the view from the path). ``shared_scripts``:
    ``{name: file}`` served at ``path/<name>``. ``connect_sources``: what the page may connect to
    besides its own origin. Files are read once, here: a missing one fails at start-up rather than
    on a user's request."""
    html = (static_dir / f"{stem}.html").read_text(encoding="utf-8")
    scripts = {"app.js": (static_dir / f"{stem}.js").read_text(encoding="utf-8")}
    for name, file in (shared_scripts or {}).items():
        scripts[name] = file.read_text(encoding="utf-8")
    style = (static_dir / f"{stem}.css").read_text(encoding="utf-8")
    headers = page_headers(connect_sources)
    router = APIRouter(tags=tags or ["pages"])

    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    for at in (path, *also_at):
        summary = f"{title}: the page" + ("" if at == path else f" ({at})")
        router.add_api_route(at, page, methods=["GET"], response_class=HTMLResponse, summary=summary)

    for name, body in scripts.items():
        router.add_api_route(
            f"{path}/{name}",
            _serving(body, "text/javascript", headers),
            methods=["GET"],
            summary=f"{title}: the page's script" + ("" if name == "app.js" else f" {name}"),
            responses={200: {"content": {"text/javascript": {}}, "description": "JavaScript"}},
        )

    router.add_api_route(
        f"{path}/style.css",
        _serving(style, "text/css", headers),
        methods=["GET"],
        summary=f"{title}: the page's style sheet",
        responses={200: {"content": {"text/css": {}}, "description": "CSS"}},
    )

    return router


def _serving(body: str, media_type: str, headers: dict[str, str]) -> Callable[[], Awaitable[Response]]:
    """A route handler answering ``body``: one closure per file, so no file is a parameter."""

    async def serve() -> Response:
        return Response(body, media_type=media_type, headers=headers)

    return serve

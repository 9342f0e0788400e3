"""STAND-IN for the platform's sign-in (BFF) and one-origin proxy, used only until the real one
(branch console-platform: nginx + /auth) serves the console. It keeps the contract of
/work/briefs/console-contract.md: the console at /console/, a cookie session read at
/auth/session, CSRF on unsafe methods, 401 `session_expired`, and /v1/... and /ops/<service>/...
passed to the services with the session's bearer token. A fake because the real part does not
exist yet; the console tests say which one they run against."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta, timezone

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from esign.auth import Role, mint_token
from esign.console import STATIC_DIR
from esign.pages import PAGE_HEADERS
from esign.routes import route_for

CONSOLE_HEADERS = PAGE_HEADERS | {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}
SAFE = {"GET", "HEAD", "OPTIONS"}


def _problem(status: int, code: str, title: str) -> JSONResponse:
    body = {"type": f"urn:esign:problem:{code}", "title": title, "status": status, "code": code}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


class StandInSessions:
    def __init__(self, jwt_secret: str) -> None:
        self.jwt_secret = jwt_secret
        self.by_id: dict[str, dict] = {}

    def open(
        self,
        role: str,
        *,
        institution_id: str | None = None,
        institution_name: str | None = None,
        subject: str | None = None,
        name: str | None = None,
    ) -> str:
        session_id = secrets.token_urlsafe(24)
        subject = subject or f"{role}@test"
        token = mint_token(
            self.jwt_secret,
            subject=subject,
            role=Role(role),
            institution_id=uuid.UUID(institution_id) if institution_id else None,
            name=name,
        )
        self.by_id[session_id] = {
            "public": {
                "subject": subject,
                "name": name or subject,
                "role": role,
                "institution_id": institution_id,
                "institution_name": institution_name,
                "csrf_token": secrets.token_urlsafe(24),
                "expires_at": (datetime.now(timezone.utc) + timedelta(hours=8)).isoformat(),
            },
            "token": token,
        }
        return session_id

    def expire(self, session_id: str) -> None:
        self.by_id.pop(session_id, None)


def standin_app(upstreams: dict[str, str], sessions: StandInSessions) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    client = httpx.AsyncClient(timeout=30)

    def session_of(request: Request) -> dict | None:
        return sessions.by_id.get(request.cookies.get("esign_session", ""))

    @app.get("/console/")
    async def console_index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=CONSOLE_HEADERS)

    @app.get("/console/{path:path}")
    async def console_file(path: str) -> Response:
        target = (STATIC_DIR / path).resolve()
        if STATIC_DIR not in target.parents or not target.is_file():
            return _problem(404, "not_found", "Not found")
        media = {"js": "text/javascript", "css": "text/css", "html": "text/html"}.get(target.suffix[1:])
        return FileResponse(target, media_type=media, headers=CONSOLE_HEADERS)

    @app.get("/auth/login")
    async def login() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>Sign in</title><h1>Sign in (stand-in)</h1>", headers=PAGE_HEADERS)

    @app.get("/auth/session")
    async def session(request: Request) -> Response:
        s = session_of(request)
        return JSONResponse(s["public"]) if s else _problem(401, "not_signed_in", "Not signed in")

    @app.post("/auth/logout")
    async def logout(request: Request) -> Response:
        s = session_of(request)
        if s and request.headers.get("x-csrf-token") != s["public"]["csrf_token"]:
            return _problem(403, "csrf_failed", "CSRF check failed")
        sessions.expire(request.cookies.get("esign_session", ""))
        response = Response(status_code=204)
        response.delete_cookie("esign_session")
        return response

    async def forward(request: Request, service: str, path: str) -> Response:
        s = session_of(request)
        if s is None:
            return _problem(401, "session_expired", "Session expired")
        if request.method not in SAFE and request.headers.get("x-csrf-token") != s["public"]["csrf_token"]:
            return _problem(403, "csrf_failed", "CSRF check failed")
        headers = {
            k: v for k, v in request.headers.items() if k.lower() in {"accept", "accept-language", "content-type"}
        }
        headers["Authorization"] = f"Bearer {s['token']}"
        upstream = await client.request(
            request.method,
            f"http://{upstreams[service]}{path}",
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
        keep = {k: v for k, v in upstream.headers.items() if k.lower() in {"content-type", "content-disposition"}}
        return Response(upstream.content, status_code=upstream.status_code, headers=keep)

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def api(request: Request, rest: str) -> Response:
        route = route_for(request.url.path)
        if route is None:
            return _problem(404, "not_found", "Not found")
        return await forward(request, route.service, request.url.path)

    @app.api_route("/ops/{service}/{rest:path}", methods=["GET", "POST"])
    async def ops(request: Request, service: str, rest: str) -> Response:
        if service not in upstreams:
            return _problem(404, "not_found", "Not found")
        return await forward(request, service, "/" + rest)

    return app

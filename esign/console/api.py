"""The console's endpoints: sign-in (OIDC or local), the session, sign-out, the proxy's session
check, and the console's static files. ``install_console`` mounts them on the hosting service."""

from __future__ import annotations

import mimetypes
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol
from urllib.parse import urlencode, urlsplit

import jwt
import structlog
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from nats.js.client import JetStreamContext
from pydantic import BaseModel, Field

from esign.auth import Principal, Role, TokenVerifier, mint_token
from esign.console import STATIC_DIR
from esign.console.oidc import OidcClient, sign_in_failed
from esign.console.sessions import ConsoleSession, PendingSignIn, SessionStore, binding_of
from esign.console.settings import ConsoleSettings
from esign.problems import Problem, problem_responses

log = structlog.get_logger("esign.console")

SESSION_COOKIE = "esign_session"
SIGN_IN_COOKIE = "esign_sign_in"  # binds an OIDC sign-in in progress to the browser that started it
CSRF_HEADER = "X-CSRF-Token"
HOME = "/console/"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
HERE = Path(__file__).parent
STATIC_TYPES = {".html", ".js", ".mjs", ".css", ".json", ".svg", ".png", ".ico", ".woff2"}


def _media_type(suffix: str) -> str:
    return (
        "text/javascript" if suffix in (".js", ".mjs") else mimetypes.types_map.get(suffix, "application/octet-stream")
    )


# What a console file can be served as, so the OpenAPI document says it (and a fuzzer can check it).
STATIC_MEDIA_TYPES = sorted({_media_type(suffix) for suffix in STATIC_TYPES})

CONSOLE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["j2"]))


class InstitutionDirectory(Protocol):
    """What the console needs to know about institutions, from the service that hosts it."""

    async def all(self) -> list[tuple[uuid.UUID, str]]: ...

    async def name_of(self, institution_id: uuid.UUID) -> str | None: ...


@dataclass
class Console:
    settings: ConsoleSettings
    verifier: TokenVerifier
    institutions: InstitutionDirectory
    secret: str = field(repr=False)
    jetstream: Callable[[], JetStreamContext]
    local_token_secret: str | None = field(repr=False)  # local sign-in only: the key `esign token` signs with
    oidc: OidcClient | None
    audience: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _store: SessionStore | None = None

    @property
    def store(self) -> SessionStore:
        if self._store is None:
            self._store = SessionStore(
                self.jetstream(),
                self.secret,
                session_ttl=timedelta(minutes=self.settings.console_session_minutes),
                clock=lambda: self.clock(),
            )
        return self._store

    @property
    def local(self) -> bool:
        return self.oidc is None


def install_console(
    app: FastAPI,
    settings: ConsoleSettings,
    *,
    oidc_issuer: str | None,
    audience: str,
    local_token_secret: str | None,
    verifier: TokenVerifier,
    institutions: InstitutionDirectory,
    jetstream: Callable[[], JetStreamContext],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Console:
    """Mounts the console on ``app``. With an issuer, sign-in is OIDC (and the local page does not
    exist); without, the local sign-in page mints tokens with ``local_token_secret``."""
    secret = settings.console_secret.get_secret_value() if settings.console_secret else None
    if secret is None:
        log.warning("console_secret_unset", detail="random per process; console sessions end on restart")
        secret = secrets.token_urlsafe(32)
    oidc = None
    if oidc_issuer:
        if not settings.oidc_client_id:
            log.warning("console_sign_in_unavailable", detail="OIDC_ISSUER is set but OIDC_CLIENT_ID is not")
        else:
            oidc = OidcClient(settings, issuer=oidc_issuer)
    console = Console(
        settings=settings,
        verifier=verifier,
        institutions=institutions,
        secret=secret,
        jetstream=jetstream,
        local_token_secret=None if oidc_issuer else local_token_secret,
        oidc=oidc,
        audience=audience,
        clock=clock,
    )
    app.state.console = console
    app.include_router(router)
    app.include_router(static_router)
    return console


def _console(request: Request) -> Console:
    return request.app.state.console


def safe_next(value: str | None) -> str:
    """Only a path on this origin: never another host (an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return HOME
    return value


def _cookie_secure(request: Request, settings: ConsoleSettings) -> bool:
    if settings.console_cookie_secure is not None:
        return settings.console_cookie_secure
    return not (request.url.scheme == "http" and request.url.hostname in LOCAL_HOSTS)


def _set_session_cookie(response: Response, request: Request, console: Console, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=console.settings.console_session_minutes * 60,
        path="/",
        httponly=True,
        secure=_cookie_secure(request, console.settings),
        samesite="lax",
    )


def not_signed_in() -> Problem:
    return Problem(401, "not_signed_in", "Not signed in", "Sign in at /auth/login.")


def session_expired() -> Problem:
    return Problem(401, "session_expired", "Session expired", "The sign-in session has ended; sign in again.")


def csrf_failed() -> Problem:
    return Problem(
        403,
        "csrf_failed",
        "CSRF check failed",
        f"A state-changing request from the console must carry its {CSRF_HEADER} header.",
    )


def institution_missing() -> Problem:
    return Problem(
        403,
        "institution_missing",
        "No institution",
        "An institution officer's sign-in must name the officer's institution (claim institution_id).",
    )


async def _live_session(request: Request, console: Console) -> tuple[str, ConsoleSession]:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise not_signed_in()
    session = await console.store.get(session_id)
    if session is None:
        raise session_expired()
    return session_id, session


async def _new_session(console: Console, principal: Principal, *, bearer: str, id_token: str | None = None) -> str:
    if principal.role not in (Role.INSTITUTION_OFFICER, Role.CA_OPERATOR):
        raise Problem(403, "role_not_allowed", "Not a staff role", "The console is for officers and CA operators.")
    expires_at = console.clock() + console.store.session_ttl
    token_expiry = jwt.decode(bearer, options={"verify_signature": False}).get("exp")
    if token_expiry:  # the session cannot outlive the token it hands the APIs
        expires_at = min(expires_at, datetime.fromtimestamp(token_expiry, UTC))
    institution_name = (
        await console.institutions.name_of(principal.institution_id) if principal.institution_id else None
    )
    session = ConsoleSession(
        subject=principal.subject,
        role=principal.role.value,
        institution_id=str(principal.institution_id) if principal.institution_id else None,
        institution_name=institution_name,
        name=principal.name,
        expires_at=expires_at,
        bearer_token=bearer,
        id_token=id_token,
    )
    session_id = await console.store.create(session)
    log.info("console_signed_in", role=session.role, institution_id=session.institution_id)
    return session_id


def _principal_of(console: Console, access_token: str) -> Principal:
    """Who the APIs would take the token's bearer for; an officer without an institution is
    refused with its own code (the APIs refuse such a token as unauthenticated)."""
    try:
        return console.verifier.verify(access_token)
    except Problem:
        claims = jwt.decode(access_token, options={"verify_signature": False})
        if claims.get(console.verifier.role_claim) == Role.INSTITUTION_OFFICER and not claims.get("institution_id"):
            raise institution_missing() from None
        raise


router = APIRouter(prefix="/auth", tags=["console sign-in"])


class SessionView(BaseModel):
    subject: str
    name: str | None
    role: str = Field(description="`institution_officer` or `ca_operator`")
    institution_id: uuid.UUID | None
    institution_name: str | None
    csrf_token: str = Field(description=f"Send it as `{CSRF_HEADER}` with every state-changing request.")
    expires_at: datetime


@router.get(
    "/login",
    summary="Start signing in to the console",
    description="With an identity provider: redirects to it (authorization code flow with PKCE). Locally "
    "(no provider configured): redirects to the local sign-in page. `next` is where to return, a path "
    "on this origin.",
    status_code=302,
    response_class=RedirectResponse,
    responses={302: {"description": "To the identity provider or the local sign-in page"}, **problem_responses(503)},
)
async def login(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    console = _console(request)
    target = safe_next(next)
    if console.oidc is None:
        if console.local_token_secret is None:
            raise _unavailable()
        return RedirectResponse(f"/auth/local?{urlencode({'next': target})}", status_code=302)
    authorization = await console.oidc.authorization_request()
    browser = secrets.token_urlsafe(32)
    await console.store.start_sign_in(
        authorization.state,
        PendingSignIn(
            browser_binding=binding_of(browser),
            code_verifier=authorization.code_verifier,
            nonce=authorization.nonce,
            next_path=target,
        ),
    )
    response = RedirectResponse(authorization.url, status_code=302)
    response.set_cookie(
        SIGN_IN_COOKIE,
        browser,
        max_age=600,
        path="/auth/callback",
        httponly=True,
        secure=_cookie_secure(request, console.settings),
        samesite="lax",
    )
    return response


def _unavailable() -> Problem:
    return Problem(503, "sign_in_unavailable", "Sign-in is not configured", "See docs/console.md (OIDC_*).")


@router.get(
    "/callback",
    summary="Finish signing in (the identity provider's redirect)",
    description="Checks the state against the sign-in this browser started, redeems the code with the PKCE "
    "verifier, checks the ID token and the access token, starts the session (cookie `esign_session`) and "
    "redirects to `next`. Refused: a state this browser did not start (`sign_in_state_mismatch`), the "
    "provider's error (`sign_in_failed`), an officer without an institution (`institution_missing`). "
    "Does not exist without an identity provider.",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Signed in: to `next`"}, **problem_responses(400, 403, 404)},
)
async def callback(
    request: Request,
    code: Annotated[str | None, Query()] = None,
    state: Annotated[str | None, Query()] = None,
    error: Annotated[str | None, Query()] = None,
) -> Response:
    console = _console(request)
    if console.oidc is None:
        raise Problem(404, "not_found", "Not found", "Sign-in here is local: see /auth/login.")
    pending = await console.store.take_sign_in(state) if state else None
    browser = request.cookies.get(SIGN_IN_COOKIE)
    if pending is None or browser is None or not secrets.compare_digest(binding_of(browser), pending.browser_binding):
        raise Problem(
            400, "sign_in_state_mismatch", "Sign-in not recognised", "This sign-in was not started here; start again."
        )
    if error or not code:
        raise sign_in_failed("The identity provider refused the sign-in.")
    tokens = await console.oidc.redeem(code, code_verifier=pending.code_verifier, nonce=pending.nonce)
    principal = _principal_of(console, tokens.access_token)
    if principal.subject != tokens.id_claims["sub"]:
        raise sign_in_failed("The access token and the ID token name different people.")
    session_id = await _new_session(console, principal, bearer=tokens.access_token, id_token=tokens.id_token)
    response = RedirectResponse(pending.next_path, status_code=303)
    response.delete_cookie(SIGN_IN_COOKIE, path="/auth/callback")
    _set_session_cookie(response, request, console, session_id)
    return response


@router.get(
    "/local",
    summary="Local sign-in page (no identity provider configured)",
    description="A clearly marked page for local runs: pick a role and an institution; signs in with the same "
    "tokens `esign token` mints. Does not exist (404) when an identity provider is configured.",
    response_class=HTMLResponse,
    responses=problem_responses(404),
)
async def local_page(request: Request, next: Annotated[str | None, Query()] = None) -> HTMLResponse:
    console, _ = _local_only(request)
    return await _render_local(console, safe_next(next))


async def _render_local(
    console: Console, next_path: str, *, error: str | None = None, status: int = 200, form: dict | None = None
) -> HTMLResponse:
    html = _templates.get_template("local.html.j2").render(
        institutions=await console.institutions.all(), next=next_path, error=error, form=form or {}
    )
    headers = {
        **CONSOLE_HEADERS,
        "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


def _local_only(request: Request) -> tuple[Console, str]:
    """The console and the key local tokens are signed with; 404 where there is no local sign-in."""
    console = _console(request)
    if not console.local or console.local_token_secret is None:
        raise Problem(404, "not_found", "Not found", "There is no local sign-in: an identity provider is configured.")
    return console, console.local_token_secret


@router.post(
    "/local",
    summary="Sign in locally",
    description="Form fields `role` (`institution_officer` | `ca_operator`), `institution_id` (officers), "
    "optional `subject` and `name`, `next`. Mints a local staff token, starts the session, 303 to `next`. "
    "A missing role, or an officer without an existing institution: the page again (200, a form's answer) "
    "with the error next to the field, and no session.",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "Signed in: to `next`"},
        200: {
            "description": "Not signed in: the page again, the error next to its field",
            "content": {"text/html": {}},
        },
        **problem_responses(403, 404),
    },
)
async def local_sign_in(request: Request) -> Response:
    console, token_secret = _local_only(request)
    if _cross_site(request):
        # Another site's page submitting this form would sign the browser in as someone else.
        raise Problem(403, "cross_site_sign_in", "Not from this site", "Sign in from this site's own page.")
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    next_path = safe_next(form.get("next"))
    try:
        role = Role(form.get("role", ""))
        if role not in (Role.INSTITUTION_OFFICER, Role.CA_OPERATOR):
            raise ValueError(role)
    except ValueError:
        return await _render_local(console, next_path, error="role", status=200, form=form)
    institution_id = None
    if role is Role.INSTITUTION_OFFICER:
        try:
            institution_id = uuid.UUID(form.get("institution_id", ""))
        except ValueError:
            return await _render_local(console, next_path, error="institution_missing", status=200, form=form)
        if await console.institutions.name_of(institution_id) is None:
            return await _render_local(console, next_path, error="institution_missing", status=200, form=form)
    subject = form.get("subject") or f"{role.value}@local"
    bearer = mint_token(
        token_secret,
        subject=subject[:200],
        role=role,
        institution_id=institution_id,
        name=(form.get("name") or None),
        ttl=console.store.session_ttl,
        audience=console.audience,
    )
    session_id = await _new_session(console, console.verifier.verify(bearer), bearer=bearer)
    response = RedirectResponse(next_path, status_code=303)
    _set_session_cookie(response, request, console, session_id)
    return response


def _cross_site(request: Request) -> bool:
    """Browsers say where a form post comes from in Sec-Fetch-Site; without it (older browsers,
    scripts) a foreign Origin gives it away. Origin is "null" under Referrer-Policy: no-referrer."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return bool(origin) and origin != "null" and urlsplit(origin).netloc != request.headers.get("Host")


@router.get(
    "/local/style.css",
    summary="Local sign-in page: its style sheet",
    responses={200: {"content": {"text/css": {}}, "description": "CSS"}, **problem_responses(404)},
)
async def local_style(request: Request) -> Response:
    _local_only(request)
    return Response((HERE / "templates" / "local.css").read_text(), media_type="text/css", headers=CONSOLE_HEADERS)


@router.get(
    "/session",
    summary="Who is signed in to the console",
    description="The session's person, role and institution, the CSRF token to send as "
    f"`{CSRF_HEADER}`, and when the session ends. 401 `not_signed_in` without a session cookie, "
    "`session_expired` when its session has ended.",
    response_model=SessionView,
    responses=problem_responses(401),
)
async def session(request: Request) -> JSONResponse:
    console = _console(request)
    session_id, current = await _live_session(request, console)
    view = SessionView(
        subject=current.subject,
        name=current.name,
        role=current.role,
        institution_id=uuid.UUID(current.institution_id) if current.institution_id else None,
        institution_name=current.institution_name,
        csrf_token=console.store.csrf_token(session_id),
        expires_at=current.expires_at,
    )
    return JSONResponse(view.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


class SignedOut(BaseModel):
    redirect_to: str = Field(
        description="Where the page goes next: the identity provider's end-session endpoint (RP-Initiated "
        "Logout, with `id_token_hint` and `post_logout_redirect_uri`) when it advertises one, else the "
        "sign-in start on this origin."
    )


@router.post(
    "/logout",
    summary="Sign out of the console (and of the identity provider)",
    description=f"Ends the session on the server and clears the cookie, first and in every case. Needs "
    f"`{CSRF_HEADER}`; without a live session it only clears the cookie. With an identity provider that "
    "advertises `end_session_endpoint`, `redirect_to` leads the browser there to end the provider's session "
    "too (OpenID Connect RP-Initiated Logout 1.0); the provider then returns it to the console.",
    response_model=SignedOut,
    responses=problem_responses(403),
)
async def logout(request: Request) -> JSONResponse:
    console = _console(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    ended = await console.store.get(session_id) if session_id else None
    if session_id and ended is not None:
        if not console.store.csrf_valid(session_id, request.headers.get(CSRF_HEADER)):
            raise csrf_failed()
        await console.store.end(session_id)
        log.info("console_signed_out")
    redirect_to = f"/auth/login?{urlencode({'next': HOME})}"
    if console.oidc is not None and ended is not None:
        # After the local session is gone: a provider that is down or has no end-session
        # endpoint leaves the browser signed out here, which is what matters most.
        redirect_to = await console.oidc.end_session_url(ended.id_token) or redirect_to
    response = JSONResponse(SignedOut(redirect_to=redirect_to).model_dump(), headers={"Cache-Control": "no-store"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(
    "/check",
    summary="Session check for the proxy (internal)",
    description="Asked by nginx's auth_request (locally) or the Ingress's auth-url (production) before a staff "
    "API call, never by a page; not exposed on the public origin. A request with its own Authorization "
    "header: 200 with that header echoed (it passes untouched). Without a session cookie: 200 and nothing "
    "(the service decides). With a live session: 200 and `Authorization: Bearer <session's token>`, "
    f"provided a state-changing method (`X-Original-Method`) carries `{CSRF_HEADER}`, else 403 "
    "`csrf_failed`. An ended session: 401 `session_expired`.",
    response_class=Response,
    responses={200: {"description": "Go ahead (see the Authorization header); no body"}, **problem_responses(401, 403)},
)
async def check(request: Request) -> Response:
    headers: dict[str, Any] = {"Cache-Control": "no-store"}
    own = request.headers.get("Authorization")
    if own:
        return Response(status_code=200, headers={**headers, "Authorization": own})
    if not request.cookies.get(SESSION_COOKIE):
        return Response(status_code=200, headers=headers)
    console = _console(request)
    session_id, current = await _live_session(request, console)
    method = request.headers.get("X-Original-Method", "GET").upper()
    if method not in SAFE_METHODS and not console.store.csrf_valid(session_id, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    return Response(status_code=200, headers={**headers, "Authorization": f"Bearer {current.bearer_token}"})


static_router = APIRouter(tags=["console"])


@static_router.get(
    "/console/",
    summary="The staff console",
    response_class=HTMLResponse,
    responses=problem_responses(404),
)
async def console_index() -> Response:
    return _static("index.html")


@static_router.get(
    "/console/{path:path}",
    summary="The staff console's files",
    description="Its scripts, style sheets and images; a path without an extension is one of the console's "
    "own pages and answers its index.html.",
    response_class=Response,
    responses={
        200: {"description": "The file", "content": {media_type: {} for media_type in STATIC_MEDIA_TYPES}},
        **problem_responses(404),
    },
)
async def console_file(path: str) -> Response:
    if "." not in Path(path).name:
        return _static("index.html")
    return _static(path)


def _static(path: str) -> Response:
    file = (STATIC_DIR / path).resolve()
    if not file.is_relative_to(STATIC_DIR.resolve()) or file.suffix not in STATIC_TYPES or not file.is_file():
        raise Problem(404, "not_found", "Not found", "No such file in the console.")
    media_type = _media_type(file.suffix)
    return Response(file.read_bytes(), media_type=media_type, headers=CONSOLE_HEADERS)

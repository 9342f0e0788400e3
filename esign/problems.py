"""RFC 9457 problem details: one exception type for expected refusals, handlers that turn every
error (validation, HTTP, unexpected) into ``application/problem+json`` with a stable ``code``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, PrivateAttr
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from esign.problem_language import SHARED_TURKISH, ProblemTexts, fill, negotiate

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:esign:problem:"

log = structlog.get_logger("esign.problems")


class FieldProblem(BaseModel):
    field: str = Field(
        description="Dotted path of the offending field, e.g. `delivery_address.city` or `rows.12.tckn`."
    )
    code: str = Field(description="Stable machine-readable reason.")
    message: str = Field(description="For people, in the language of `Content-Language` (Turkish or English).")
    # What a translated message may name (pydantic's context, e.g. max_length); never rendered.
    _params: dict[str, Any] = PrivateAttr(default_factory=dict)

    def with_params(self, params: Mapping[str, Any] | None) -> FieldProblem:
        self._params = dict(params or {})
        return self


class ProblemDetail(BaseModel):
    type: str = Field(description="`urn:esign:problem:<code>`")
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class Problem(Exception):
    """An expected refusal. Raised anywhere below the endpoints; rendered as problem+json."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        errors: Sequence[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{code}: {detail or title}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body = ProblemDetail(
            type=TYPE_PREFIX + self.code,
            title=self.title,
            status=self.status,
            code=self.code,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        ).model_dump(exclude_none=True)
        body.update(self.extra)
        return body


def localised(problem: Problem, language: str, texts: ProblemTexts) -> Problem:
    """The problem in ``language``: Turkish texts by code where the catalogue has them."""
    if language != "tr":
        return problem
    values = {**problem.extra, **{"code": problem.code}}
    errors = [
        FieldProblem(
            field=e.field, code=e.code, message=fill(texts.fields.get(e.code), e._params, e.message) or e.message
        )
        for e in problem.errors or ()
    ]
    return Problem(
        problem.status,
        problem.code,
        fill(texts.titles.get(problem.code), values, problem.title) or problem.title,
        fill(texts.details.get(problem.code), values, problem.detail),
        errors,
        headers=problem.headers,
        **problem.extra,
    )


def problem_json(
    problem: Problem, *, instance: str | None, accept_language: str | None, texts: ProblemTexts
) -> JSONResponse:
    """Every problem answer goes out here: in the client's language, saying which it is."""
    language = negotiate(accept_language)
    answer = localised(problem, language, texts)
    headers = {**(answer.headers or {}), "Content-Language": language, "Vary": "Accept-Language"}
    return JSONResponse(
        answer.body(instance=instance), status_code=answer.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def app_problem_texts(app: Any) -> ProblemTexts:
    return getattr(getattr(app, "state", None), "problem_texts", None) or SHARED_TURKISH


def scope_problem_response(problem: Problem, scope: Scope) -> JSONResponse:
    """For middleware, which has the ASGI scope rather than a request."""
    accept = dict(scope.get("headers") or ()).get(b"accept-language", b"").decode("latin-1")
    return problem_json(
        problem, instance=scope.get("path"), accept_language=accept, texts=app_problem_texts(scope.get("app"))
    )


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return problem_json(
        problem,
        instance=request.url.path,
        accept_language=request.headers.get("accept-language"),
        texts=app_problem_texts(request.app),
    )


def _validation_field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def install_problem_handlers(app: FastAPI, texts: ProblemTexts | None = None) -> None:
    """``texts``: the service's own Turkish texts, added to the shared ones."""
    app.state.problem_texts = SHARED_TURKISH.with_(texts)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> JSONResponse:
        return problem_response(exc.problem(), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            # The offending input is deliberately not echoed back: it may be a TC Kimlik No.
            FieldProblem(
                field=_validation_field(e.get("loc", ())),
                code=e.get("type", "invalid"),
                message=e.get("msg", "invalid"),
            ).with_params(e.get("ctx"))
            for e in exc.errors()
        ]
        problem = Problem(422, "validation_failed", "The request is not valid", "See `errors` for each field.", errors)
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden"}.get(
            exc.status_code, f"http_{exc.status_code}"
        )
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        problem = Problem(
            exc.status_code,
            code,
            detail or code.replace("_", " ").capitalize(),
            None,
            headers=headers or None,
        )
        return problem_response(problem, request)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route answers on this path: Starlette's own 405 names only the first route
    that matched the path, so `GET` and `POST` declared apart would say `Allow: POST`. Asked of the
    routes themselves (does the path with this method fully match?), so included routers count."""
    return {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.router.routes
        )
    }


class UnhandledErrors:
    """Innermost catch-all: an unexpected error becomes a 500 problem and one JSON log line through
    the masking logger. Handled here, it never reaches Starlette's ServerErrorMiddleware, which
    would re-raise it for uvicorn to print as a plain-text traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception:
            log.exception("unhandled_error", path=scope.get("path"))
            if started:
                raise  # too late for an answer of our own; the server closes the connection
            problem = Problem(
                500, "internal_error", "Internal error", "Something went wrong on our side; it has been logged."
            )
            await scope_problem_response(problem, scope)(scope, receive, send)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entry documenting problem+json answers for the given statuses."""
    return {
        s: {
            "description": problem_descriptions.get(s, "Problem"),
            "model": ProblemDetail,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
        }
        for s in statuses
    }


problem_descriptions = {
    400: "Bad request",
    401: "Missing or invalid bearer token",
    403: "Authenticated, but not allowed",
    404: "Not found (or not visible to you)",
    409: "Conflicts with the current state (e.g. an illegal transition)",
    413: "Payload too large (the service's body limit, see its documentation)",
    415: "Unsupported media type",
    422: "Validation failed; `errors` lists each field and why (also: a body that is not UTF-8 JSON, "
    "nested too deep, holding NUL characters or numbers outside 64 bits)",
    423: "Locked",
    429: "Too many requests",
}


class Refusal(Exception):
    """The one family of expected refusals below the API (handlers, adapters): each subclass says
    its HTTP status, stable code and title; every service app renders them (install_problem_handlers).
    Handlers raise these rather than :class:`Problem` so they stay free of HTTP wording. The
    common ones are here (NotFound, Conflict, Invalid); a service adds its own as subclasses."""

    status = 400
    code = "bad_request"
    title: str | None = None  # None: the message is the title

    def __init__(self, message: str, errors: Sequence[Any] = (), **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors)  # anything with .field, .code and .message
        self.extra = extra

    def problem(self) -> Problem:
        fields = [FieldProblem(field=e.field, code=e.code, message=e.message) for e in self.errors]
        return Problem(self.status, self.code, self.title or self.message, self.message, fields, **self.extra)


_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def document_problems(app: FastAPI) -> None:
    """Makes the OpenAPI say what the service answers: every 4xx is problem+json with
    :class:`ProblemDetail` (FastAPI documents its own 422 as ``HTTPValidationError``, which no
    answer has), every operation with parameters or a body may answer 422 (the validation handler
    and :mod:`esign.request_guard`), and every one with a body may answer 413."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = build()
        for path_item in doc.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                if operation.get("parameters") or operation.get("requestBody"):
                    responses.setdefault("422", {"description": problem_descriptions[422]})
                if operation.get("requestBody"):
                    responses.setdefault("413", {"description": problem_descriptions[413]})
                for status, response in responses.items():
                    if status.startswith("4"):
                        response["content"] = dict(_PROBLEM_CONTENT)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
        schemas.setdefault(
            "ProblemDetail", ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        defs = schemas["ProblemDetail"].pop("$defs", {})
        for name, schema in defs.items():
            schemas.setdefault(name, schema)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


class NotFound(Refusal):
    """Missing and not-yours answer alike, so nobody can probe another institution's ids."""

    status = 404
    code = "not_found"
    title = "Not found"

    def __init__(self, what: str, *, detail: str | None = None) -> None:
        super().__init__(detail or f"No {what} with that id is visible to you.")


class Conflict(Refusal):
    """Not possible in the current state; ``code`` says which rule (e.g. ``institution_exists``)."""

    status = 409

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.code = code


class Invalid(Refusal):
    """Well-formed but not acceptable; ``errors`` names each field and why."""

    status = 422
    code = "validation_failed"

"""Domain and handler refusals -> RFC 9457 problems, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from esign.problems import FieldProblem, Problem, problem_response
from services.applications.adapters.repositories import ConcurrentUpdate
from services.applications.adapters.roster_files import RosterFileError
from services.applications.domain.application import DomainError, FormIncomplete, FormInvalid, IllegalTransition
from services.applications.domain.invitation import SignInRefused

_TITLES = {
    "illegal_transition": "Not possible in the application's current state",
    "form_incomplete": "The form is not complete",
    "form_invalid": "Some fields are not valid",
    "invalid_credentials": "Sign-in refused",
    "invitation_locked": "Invitation locked",
    "invitation_expired": "Invitation expired",
}


def _fields(errors) -> list[FieldProblem]:
    return [FieldProblem(field=e.field, code=e.code, message=e.message) for e in errors]


def to_problem(exc: Exception) -> Problem:
    if isinstance(exc, IllegalTransition):
        return Problem(
            409,
            exc.code,
            _TITLES[exc.code],
            str(exc),
            current_status=exc.current.value,
            requested_status=exc.target.value,
        )
    if isinstance(exc, (FormIncomplete, FormInvalid)):
        return Problem(422, exc.code, _TITLES[exc.code], str(exc), _fields(exc.errors))
    if isinstance(exc, DomainError):
        return Problem(409, exc.code, "Conflict", str(exc))
    if isinstance(exc, SignInRefused):
        headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return Problem(exc.status, exc.code, _TITLES[exc.code], str(exc), headers=headers, **exc.extra)
    if isinstance(exc, RosterFileError):
        status = {"too_many_rows": 413, "unknown_format": 415}.get(exc.code, 400)
        extra = {"missing_columns": list(exc.missing)} if getattr(exc, "missing", None) else {}
        return Problem(status, f"roster_{exc.code}", "The staff list cannot be read", exc.message, **extra)
    if isinstance(exc, ConcurrentUpdate):
        return Problem(
            409, "concurrent_update", "Changed meanwhile", "Someone else changed this application; reload and retry."
        )
    raise exc


def install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(to_problem(exc), request)

    for exc_type in (DomainError, SignInRefused, RosterFileError, ConcurrentUpdate):
        app.add_exception_handler(exc_type, handle)

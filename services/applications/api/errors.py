"""Domain and handler refusals -> RFC 9457 problems, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from esign.problems import FieldProblem, Problem, problem_response
from services.applications.adapters.repositories import ConcurrentUpdate
from services.applications.adapters.roster_files import RosterFileError
from services.applications.domain.application import DomainError, FormIncomplete, FormInvalid, IllegalTransition
from services.applications.domain.invitation import SignInRefused
from services.applications.domain.renewal import RenewalRefused
from services.applications.handlers.errors import HandlerError

_TITLES = {
    "illegal_transition": "Not possible in the application's current state",
    "form_incomplete": "The form is not complete",
    "form_invalid": "Some fields are not valid",
    "roster_invalid": "The staff list has errors; nothing was stored",
    "invalid_credentials": "Sign-in refused",
    "invitation_locked": "Invitation locked",
    "invitation_expired": "Invitation expired",
    "renewal_not_editable": "The renewal request can no longer change",
    "origin_mismatch": "Wrong origin",
    "challenge_invalid": "Challenge unknown, used or expired",
    "signature_invalid": "Signature not valid",
    "certificate_untrusted": "Certificate not trusted",
    "certificate_expired": "Certificate expired: a first application is needed",
    "certificate_not_yet_valid": "Certificate not valid yet",
    "certificate_revoked": "Certificate revoked",
    "certificate_key_usage": "Certificate not for qualified signatures",
    "certificate_unknown": "Certificate not issued through the platform",
    "certificate_subject_mismatch": "Certificate names someone else",
    "certificate_mismatch": "Not the certificate you signed in with",
    "renewal_window_not_open": "Too early to renew",
    "certificate_already_renewed": "Already renewed",
    "preparation_invalid": "Prepared signature unknown, used or expired",
    "renewal_form_link_invalid": "Renewal Form link not valid",
    "renewal_form_link_expired": "Renewal Form link expired",
    "serial_reused": "Serial number of the old certificate",
    "public_key_reused": "Key of the old certificate",
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
    if isinstance(exc, HandlerError):
        return exc.problem(_TITLES)
    if isinstance(exc, RenewalRefused):
        return Problem(
            exc.status,
            exc.code,
            _TITLES.get(exc.code, "Renewal refused"),
            exc.message,
            _fields(exc.errors) or None,
            **exc.extra,
        )
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

    for exc_type in (DomainError, SignInRefused, HandlerError, RosterFileError, ConcurrentUpdate, RenewalRefused):
        app.add_exception_handler(exc_type, handle)

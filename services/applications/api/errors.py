"""Domain and handler refusals -> RFC 9457 problems, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from esign.problems import FieldProblem, Problem, Refusal, problem_response
from services.applications.adapters.repositories import ConcurrentUpdate
from services.applications.adapters.roster_files import RosterFileError
from services.applications.domain.application import DomainError, FormIncomplete, FormInvalid, IllegalTransition
from services.applications.domain.invitation import SignInRefused
from services.applications.domain.renewal import RenewalRefused

_TITLES = {
    "illegal_transition": "Not possible in the application's current state",
    "form_incomplete": "The form is not complete",
    "form_invalid": "Some fields are not valid",
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


# The renewal pages show `detail` to the holder: Turkish unless the request prefers English
# (contract: Accept-Language tr, the default, or en). English stays in the handlers' messages.
_RENEWAL_DETAILS_TR = {
    "origin_mismatch": "Bu istek yenileme sayfasının adresinden gelmiyor.",
    "challenge_invalid": "Oturum açma isteğinin süresi doldu veya kullanıldı; yeniden deneyin.",
    "signature_invalid": "İmza bu sertifikanın anahtarıyla bu veri üzerinde atılmamış.",
    "certificate_untrusted": "Sertifika güvenilen bir sertifika hizmet sağlayıcısına bağlanamadı.",
    "certificate_expired": "Sertifikanızın süresi dolmuş: yenileme yapılamaz, ilk başvuru gerekir.",
    "certificate_not_yet_valid": "Sertifikanız henüz geçerli değil.",
    "certificate_revoked": "Sertifikanız iptal edilmiş.",
    "certificate_key_usage": "Bu sertifika nitelikli elektronik imza (inkâr edilemezlik) için değil.",
    "certificate_unknown": "Bu sertifika platform üzerinden üretilmemiş.",
    "certificate_subject_mismatch": "Sertifikadaki kişi kayıttaki sertifika sahibi değil.",
    "certificate_mismatch": "Oturum açtığınız sertifikayla onaylayın.",
    "renewal_window_not_open": "Yenileme {window_opens_on} tarihinde, sertifikanızın bitişinden 3 ay önce açılır.",
    "certificate_already_renewed": "Bu sertifika zaten yenilenmiş.",
    "renewal_not_editable": "E-onaydan sonra yenileme talebi değiştirilemez.",
    "preparation_invalid": "Hazırlanan imzanın süresi doldu veya kullanıldı; yeniden onaylayın.",
    "renewal_form_link_invalid": "Bu Yenileme Formu bağlantısı geçerli değil (yenisi gönderilmiş olabilir).",
    "renewal_form_link_expired": "Bu Yenileme Formu bağlantısının süresi doldu; NES yetkilinizden yeniden isteyin.",
}


def _localised(problem: Problem, request: Request) -> Problem:
    template = _RENEWAL_DETAILS_TR.get(problem.code)
    prefers_english = request.headers.get("accept-language", "tr").strip().lower().startswith("en")
    if template is not None and not prefers_english:
        problem.detail = template.format(**{k: v for k, v in problem.extra.items() if isinstance(v, str)})
    return problem


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
        return problem_response(_localised(to_problem(exc), request), request)

    for exc_type in (DomainError, SignInRefused, RosterFileError, ConcurrentUpdate, RenewalRefused):
        app.add_exception_handler(exc_type, handle)

    async def handle_refusal(request: Request, exc: Refusal) -> JSONResponse:
        # The common refusals are rendered as in every service, plus the renewal pages' Turkish detail.
        return problem_response(_localised(exc.problem(), request), request)

    app.add_exception_handler(Refusal, handle_refusal)

"""Staff list upload."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from esign.problems import Problem, problem_responses
from esign.service import ClockDep
from services.applications.adapters.roster_files import read_roster_file
from services.applications.api.deps import Officer, Settings, UoW
from services.applications.api.schemas import RosterImportOut
from services.applications.handlers.access import ensure_institution_visible
from services.applications.handlers.roster import ImportRoster, import_roster

router = APIRouter(prefix="/v1/institutions", tags=["roster"], responses=problem_responses(401, 403))

_ROSTER_BODY = {
    "requestBody": {
        "required": True,
        "description": "The staff list as CSV (UTF-8, `;` or `,`, Turkish or English headers) or JSON "
        '(a list of objects, or `{"staff": [...]}`), as the raw body or as the form field `file`.',
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "tckn;first_name;last_name;birth_date;title;unit;email;mobile\n"
                "10000000146;Ayşe;Yılmaz;1985-04-12;Dr. Öğr. Üyesi;Bilgi İşlem;ayse.yilmaz@ornek.edu.tr;05321234567\n",
            },
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


@router.post(
    "/{institution_id}/roster",
    response_model=RosterImportOut,
    openapi_extra=_ROSTER_BODY,
    summary="Upload the staff list (NES officer)",
    description="Every row is validated. If any row has an error the whole file is rejected (422) with each "
    "row's errors in `errors` (field `rows.<line>.<column>`) and nothing is stored. People the "
    "institution already has are not duplicated. Each new person gets an application and an "
    "invitation, issued in the background (`invitations: pending`; `none` when nobody is new). An optional "
    "`Doğum Yeri` (place of birth) column is printed on the form.",
    responses=problem_responses(400, 404, 413, 415, 422),
)
async def upload_roster(
    institution_id: uuid.UUID, request: Request, uow: UoW, principal: Officer, settings: Settings, clock: ClockDep
) -> RosterImportOut:
    ensure_institution_visible(principal, institution_id)  # before reading a byte of someone else's upload
    limit = settings.roster_max_bytes
    too_large = Problem(413, "roster_too_large", "The file is too large", f"At most {limit} bytes.")
    if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
        raise too_large
    content: bytes | bytearray
    content_type, filename = request.headers.get("content-type"), None
    if (content_type or "").startswith("multipart/form-data"):
        # A browser form posting the file as the field `file`.
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(400, "roster_missing_file", "No file", "Send the staff list as the form field `file`.")
        content, content_type, filename = await upload.read(limit + 1), upload.content_type, upload.filename
    else:
        content = bytearray()
        async for chunk in request.stream():
            content += chunk
            if len(content) > limit:
                raise too_large
    if len(content) > limit:
        raise too_large
    records = read_roster_file(bytes(content), content_type, filename, max_rows=settings.roster_max_rows)
    result = await import_roster(ImportRoster(institution_id, records), uow, principal=principal, clock=clock)
    if result.created:
        uow.after_commit(request.app.state.workers.wake_invitation_issuer)
    return RosterImportOut(
        received=result.received,
        created=result.created,
        already_known=result.already_known,
        already_known_lines=result.already_known_lines,
        invitations="pending" if result.created else "none",
    )

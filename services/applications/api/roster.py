"""Staff list upload."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request

from esign.problems import Problem, problem_responses
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
                       "(a list of objects, or `{\"staff\": [...]}`). Send the file as the raw body.",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "tckn;first_name;last_name;birth_date;title;unit;email;mobile\n"
                         "10000000146;Ayşe;Yılmaz;1985-04-12;Dr. Öğr. Üyesi;Bilgi İşlem;ayse.yilmaz@ornek.edu.tr;05321234567\n"},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


@router.post(
    "/{institution_id}/roster", response_model=RosterImportOut, openapi_extra=_ROSTER_BODY,
    summary="Upload the staff list (NES officer)",
    description="Every row is validated. If any row has an error the whole file is rejected (422) with each "
                "row's errors in `errors` (field `rows.<line>.<column>`) and nothing is stored. People the "
                "institution already has are not duplicated. Each new person gets an application and an "
                "invitation, issued in the background.",
    responses=problem_responses(400, 404, 413, 415, 422),
)
async def upload_roster(institution_id: uuid.UUID, request: Request, uow: UoW, principal: Officer,
                        settings: Settings) -> RosterImportOut:
    ensure_institution_visible(principal, institution_id)  # before reading a byte of someone else's upload
    if int(request.headers.get("content-length") or 0) > settings.roster_max_bytes:
        raise Problem(413, "roster_too_large", "The file is too large", f"At most {settings.roster_max_bytes} bytes.")
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > settings.roster_max_bytes:
            raise Problem(413, "roster_too_large", "The file is too large", f"At most {settings.roster_max_bytes} bytes.")
    records = read_roster_file(bytes(content), request.headers.get("content-type"), None, max_rows=settings.roster_max_rows)
    result = await import_roster(ImportRoster(institution_id, records, date.today()), uow, principal)
    request.app.state.wake_invitation_issuer()
    return RosterImportOut(received=result.received, created=result.created, already_known=result.already_known,
                           already_known_lines=result.already_known_lines)

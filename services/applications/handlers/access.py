"""Who may see what. An officer sees only their own institution; an applicant only their own
application; a CA operator everything. Refusals look like "not found" (no probing)."""

from __future__ import annotations

import uuid

from esign.auth import Principal, Role
from esign.problems import NotFound


def ensure_institution_visible(principal: Principal, institution_id: uuid.UUID, what: str = "institution") -> None:
    if not principal.can_see_institution(institution_id):
        raise NotFound(what)


def ensure_application_visible(principal: Principal, institution_id: uuid.UUID, application_id: uuid.UUID) -> None:
    if principal.role in (Role.APPLICANT, Role.RENEWAL_HOLDER):
        if principal.application_id != application_id:
            raise NotFound("application")
        return
    ensure_institution_visible(principal, institution_id, "application")


def own_application_id(principal: Principal) -> uuid.UUID:
    """The one application an applicant's or renewal holder's session is bound to (their tokens
    always carry it; anyone else has none, which answers like a missing application)."""
    if principal.application_id is None:
        raise NotFound("application")
    return principal.application_id

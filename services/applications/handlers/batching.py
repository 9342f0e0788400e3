"""What forwarding a batch of first applications and filing a batch of renewals share: every id
must be one of the institution's, or nothing happens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from esign.problems import Invalid
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.domain.application import Application, Kind
from services.applications.domain.form import FieldError


async def load_batch_candidates(
    uow: ApplicationsUnitOfWork,
    *,
    institution_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    field: str,
    what: str,
    kind: Kind | None = None,
) -> list[Application]:
    """The applications (locked, duplicates once) for a batch; ``Invalid`` with one error per id
    (``<field>.<id>``) that is not the institution's (or not of ``kind``)."""
    wanted = list(dict.fromkeys(ids))
    found = {
        app.id: app
        for app in await uow.applications.get_many(wanted)
        if app.institution_id == institution_id and (kind is None or app.kind is kind)
    }
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise Invalid(
            f"Some {what}s are not in this institution.",
            [FieldError(f"{field}.{i}", "not_found", f"No such {what} in this institution.") for i in missing],
        )
    return list(found.values())

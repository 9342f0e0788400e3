"""Invitations: the link token and access password as hashes, their expiry and lock-out."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from esign.db import copy_rows
from esign.repository import Repository
from services.applications.adapters import orm
from services.applications.domain.invitation import Invitation, InvitationState


def _invitation(row: sa.Row[Any]) -> Invitation:
    return Invitation(
        id=row.id,
        application_id=row.application_id,
        state=InvitationState(row.state),
        token_hash=row.token_hash,
        password_hash=row.password_hash,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        failed_attempts=row.failed_attempts,
        locked_until=row.locked_until,
        times_issued=row.times_issued,
    )


class InvitationRepository(Repository):
    async def add_pending(self, invitations: Sequence[Invitation]) -> None:
        """New pending invitations (nothing issued yet), with COPY: a staff list has thousands."""
        await copy_rows(
            self.session,
            orm.invitations,
            [{"id": i.id, "application_id": i.application_id, "state": i.state.value} for i in invitations],
        )

    async def for_application(self, application_id: uuid.UUID) -> Invitation | None:
        t = orm.invitations
        return await self._one_or_none(
            sa.select(t).where(t.c.application_id == application_id).with_for_update(), _invitation
        )

    async def by_token_hash(self, token_hash: str) -> Invitation | None:
        t = orm.invitations
        return await self._one_or_none(sa.select(t).where(t.c.token_hash == token_hash).with_for_update(), _invitation)

    async def claim_pending(self, limit: int) -> list[Invitation]:
        """Pending invitations for this worker alone (other replicas skip the locked rows)."""
        t = orm.invitations
        query = (
            sa.select(t)
            .where(t.c.state == InvitationState.PENDING.value)
            .order_by(t.c.created_at, t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_invitation(row) for row in await self.session.execute(query)]

    async def save(self, inv: Invitation) -> None:
        t = orm.invitations
        await self.session.execute(
            sa.update(t)
            .where(t.c.id == inv.id)
            .values(
                state=inv.state.value,
                token_hash=inv.token_hash,
                password_hash=inv.password_hash,
                issued_at=inv.issued_at,
                expires_at=inv.expires_at,
                failed_attempts=inv.failed_attempts,
                locked_until=inv.locked_until,
                times_issued=inv.times_issued,
                updated_at=sa.func.now(),
            )
        )

    async def save_many(self, invitations: Sequence[Invitation]) -> None:
        if not invitations:
            return
        t = orm.invitations
        stmt = (
            sa.update(t)
            .where(t.c.id == sa.bindparam("b_id"))
            .values(
                state=sa.bindparam("b_state"),
                token_hash=sa.bindparam("b_token_hash"),
                password_hash=sa.bindparam("b_password_hash"),
                issued_at=sa.bindparam("b_issued_at"),
                expires_at=sa.bindparam("b_expires_at"),
                failed_attempts=0,
                locked_until=None,
                times_issued=sa.bindparam("b_times_issued"),
                updated_at=sa.func.now(),
            )
        )
        await self.session.execute(
            stmt,
            [
                {
                    "b_id": i.id,
                    "b_state": i.state.value,
                    "b_token_hash": i.token_hash,
                    "b_password_hash": i.password_hash,
                    "b_issued_at": i.issued_at,
                    "b_expires_at": i.expires_at,
                    "b_times_issued": i.times_issued,
                }
                for i in invitations
            ],
        )

"""People erased at the end of their purpose: the personal columns may be emptied

Revision ID: 0007
Revises: 0006

A person whose applications all ended (without a certificate, or with one that expired long ago)
keeps a row, so counts and the audit trail stay, but no name, number, date, place or contact
(docs/personal-data.md, "Retention"). ``erased_at`` says when; the renewal's card certificate
(which names the holder and carries the TC Kimlik No) may go too.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PERSONAL = (
    "tckn_encrypted",
    "tckn_hash",
    "birth_date_encrypted",
    "first_name",
    "last_name",
    "title",
    "unit",
    "email",
    "mobile",
)


def upgrade() -> None:
    op.add_column(
        "people",
        sa.Column("erased_at", sa.DateTime(timezone=True), comment="personal data removed at the end of its purpose"),
    )
    for column in _PERSONAL:
        op.alter_column("people", column, nullable=True)
    op.alter_column("renewals", "certificate_der", nullable=True)
    op.alter_column("renewals", "certificate_fingerprint", nullable=True)


def downgrade() -> None:
    raise NotImplementedError("erased people cannot get their data back")

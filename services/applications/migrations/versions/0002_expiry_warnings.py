"""expiry warnings the notifications service sent, for the application's view

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "expiry_warnings",
        sa.Column("event_id", sa.UUID(), nullable=False, comment="the notifications event: one row per warning"),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("certificate_serial", sa.Text(), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(op.f("ix_expiry_warnings_application_id"), "expiry_warnings", ["application_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_expiry_warnings_application_id"), table_name="expiry_warnings")
    op.drop_table("expiry_warnings")

"""place of birth, from the staff list's optional column, shown on the application and the form

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "people",
        sa.Column("birth_place", sa.Text(), nullable=True, comment="personal data; null when the staff list had none"),
    )


def downgrade() -> None:
    op.drop_column("people", "birth_place")

"""recipient data removable after delivery

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("recipient_name", "mobile", "delivery_address"):
        op.alter_column("shipments", column, nullable=True)
    op.add_column(
        "shipments",
        sa.Column(
            "recipient_erased_at",
            sa.DateTime(timezone=True),
            comment="when the recipient's name, mobile and address were removed",
        ),
    )
    op.create_index(
        "ix_shipments_delivered_with_recipient",
        "shipments",
        ["status_at"],
        postgresql_where=sa.text("status = 'delivered' AND recipient_erased_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_shipments_delivered_with_recipient", table_name="shipments")
    op.drop_column("shipments", "recipient_erased_at")
    # Erased rows cannot get their data back: a placeholder satisfies NOT NULL again.
    op.execute("UPDATE shipments SET recipient_name = '' WHERE recipient_name IS NULL")
    op.execute("UPDATE shipments SET mobile = '' WHERE mobile IS NULL")
    op.execute("UPDATE shipments SET delivery_address = '{}'::jsonb WHERE delivery_address IS NULL")
    for column in ("recipient_name", "mobile", "delivery_address"):
        op.alter_column("shipments", column, nullable=False)

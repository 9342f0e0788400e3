"""delivery log: contacts masked after their period

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
    op.add_column(
        "deliveries",
        sa.Column(
            "contact_masked_at",
            sa.DateTime(timezone=True),
            comment="retention: the recipient masked, the template data removed",
        ),
    )
    # Masked recipients are not unique (two officers a***@same.edu.tr): the one-delivery-per-
    # recipient rule holds only for rows still in the clear.
    op.drop_constraint("uq_deliveries_event_channel_recipient", "deliveries", type_="unique")
    op.create_index(
        "uq_deliveries_event_channel_recipient",
        "deliveries",
        ["source_event_id", "channel", "recipient"],
        unique=True,
        postgresql_where=sa.text("contact_masked_at IS NULL"),
    )
    op.create_index(
        "ix_deliveries_unmasked",
        "deliveries",
        ["created_at"],
        postgresql_where=sa.text("contact_masked_at IS NULL AND status <> 'queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_unmasked", table_name="deliveries")
    op.drop_index("uq_deliveries_event_channel_recipient", table_name="deliveries")
    op.execute("DELETE FROM deliveries WHERE contact_masked_at IS NOT NULL")  # cannot be unmasked
    op.create_unique_constraint(
        "uq_deliveries_event_channel_recipient", "deliveries", ["source_event_id", "channel", "recipient"]
    )
    op.drop_column("deliveries", "contact_masked_at")

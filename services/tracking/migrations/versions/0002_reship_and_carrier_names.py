"""a returned parcel can be shipped again (one shipment per attempt); the carrier's display name

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
        "shipments",
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False, comment="1 = first shipment"),
    )
    op.add_column(
        "shipments",
        sa.Column(
            "previous_shipment_id",
            sa.UUID(),
            sa.ForeignKey("shipments.id"),
            nullable=True,
            comment="the returned shipment this one ships again",
        ),
    )
    op.add_column(
        "shipments",
        sa.Column(
            "carrier_name", sa.Text(), nullable=True, comment="the carrier's display name; null in rows before 0002"
        ),
    )
    # One shipment per application and attempt; a returned one is shipped again at most once.
    op.drop_constraint("shipments_application_id_key", "shipments", type_="unique")
    op.create_unique_constraint("uq_shipments_application_attempt", "shipments", ["application_id", "attempt"])
    op.create_unique_constraint("uq_shipments_previous", "shipments", ["previous_shipment_id"])


def downgrade() -> None:
    op.drop_constraint("uq_shipments_previous", "shipments", type_="unique")
    op.drop_constraint("uq_shipments_application_attempt", "shipments", type_="unique")
    op.execute("DELETE FROM shipments WHERE attempt > 1")
    op.create_unique_constraint("shipments_application_id_key", "shipments", ["application_id"])
    op.drop_column("shipments", "carrier_name")
    op.drop_column("shipments", "previous_shipment_id")
    op.drop_column("shipments", "attempt")

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:31:13.806879
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from esign.messaging_tables import create_messaging_tables, drop_messaging_tables
from esign.rate_limit import create_rate_limit_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()  # outbox, processed_events, dead_letters: shapes shared by all services
    create_rate_limit_table()  # esign.rate_limit: the public query's per-address counter
    op.create_table(
        "shipments",
        sa.Column("id", sa.UUID(), nullable=False, comment="also the carrier's idempotency key"),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("holder_id", sa.UUID(), nullable=False),
        sa.Column("recipient_name", sa.Text(), nullable=False, comment="personal data"),
        sa.Column("mobile", sa.Text(), nullable=False, comment="personal data; masked in listings"),
        sa.Column("delivery_address", postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment="personal data"),
        sa.Column("city", sa.Text(), nullable=False),
        sa.Column(
            "contents", postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment="card type, card reader type"
        ),
        sa.Column("carrier", sa.Text(), nullable=False),
        sa.Column("tracking_number", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "status_at", sa.DateTime(timezone=True), nullable=True, comment="carrier time of the last applied update"
        ),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stuck_flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registration_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
        sa.UniqueConstraint("tracking_number"),
    )
    op.create_index(
        "ix_shipments_open_handed_over",
        "shipments",
        ["handed_over_at"],
        unique=False,
        postgresql_where=sa.text("stuck_flagged_at IS NULL AND status NOT IN ('delivered', 'returned')"),
    )
    op.create_index("ix_shipments_status", "shipments", ["status", "created_at"], unique=False)
    op.create_index(
        "ix_shipments_unregistered",
        "shipments",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("tracking_number IS NULL"),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column(
            "digest", sa.Text(), nullable=False, comment="sha256 of the accepted signature: a replay has the same one"
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index(op.f("ix_webhook_receipts_received_at"), "webhook_receipts", ["received_at"], unique=False)
    op.create_table(
        "carrier_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("carrier", sa.Text(), nullable=False),
        sa.Column("carrier_event_id", sa.Text(), nullable=False),
        sa.Column("tracking_number", sa.Text(), nullable=False),
        sa.Column(
            "shipment_id",
            sa.UUID(),
            nullable=True,
            comment="null while the tracking number is not known yet (an update that beat our registration)",
        ),
        sa.Column(
            "raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment="the carrier's event, verbatim"
        ),
        sa.Column("carrier_status", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True, comment="normalised; null when the carrier's word is unknown"),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Text(),
            nullable=False,
            comment="applied, stale, not_forward, unknown_status, unknown_shipment",
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("carrier", "carrier_event_id", name="uq_carrier_events_carrier_event"),
    )
    op.create_index(op.f("ix_carrier_events_shipment_id"), "carrier_events", ["shipment_id"], unique=False)
    op.create_index(op.f("ix_carrier_events_tracking_number"), "carrier_events", ["tracking_number"], unique=False)
    op.create_table(
        "shipment_timeline",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("shipment_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_shipment_timeline_shipment_id"), "shipment_timeline", ["shipment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_shipment_timeline_shipment_id"), table_name="shipment_timeline")
    op.drop_table("shipment_timeline")
    op.drop_index(op.f("ix_carrier_events_tracking_number"), table_name="carrier_events")
    op.drop_index(op.f("ix_carrier_events_shipment_id"), table_name="carrier_events")
    op.drop_table("carrier_events")
    op.drop_index(op.f("ix_webhook_receipts_received_at"), table_name="webhook_receipts")
    op.drop_table("webhook_receipts")
    op.drop_index(
        "ix_shipments_unregistered", table_name="shipments", postgresql_where=sa.text("tracking_number IS NULL")
    )
    op.drop_index("ix_shipments_status", table_name="shipments")
    op.drop_index(
        "ix_shipments_open_handed_over",
        table_name="shipments",
        postgresql_where=sa.text("stuck_flagged_at IS NULL AND status NOT IN ('delivered', 'returned')"),
    )
    op.drop_table("shipments")
    op.drop_table("rate_limit_windows")
    drop_messaging_tables()

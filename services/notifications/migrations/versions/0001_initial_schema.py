"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:29:52.105098
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from esign.messaging_tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()  # outbox, processed_events, dead_letters: shapes shared by all services
    op.create_table(
        "certificates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("holder_id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("mobile", sa.Text(), nullable=True),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "superseded_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="a newer certificate.produced for the same holder",
        ),
        sa.Column(
            "renewal_recorded_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="the holder asked to renew: reminders stop",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial"),
    )
    op.create_index(
        "ix_certificates_active_expiry",
        "certificates",
        ["not_after"],
        unique=False,
        postgresql_where=sa.text("superseded_at IS NULL AND renewal_recorded_at IS NULL"),
    )
    op.create_index(op.f("ix_certificates_holder_id"), "certificates", ["holder_id"], unique=False)
    op.create_index(op.f("ix_certificates_institution_id"), "certificates", ["institution_id"], unique=False)
    op.create_table(
        "deliveries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "source_event_id",
            sa.UUID(),
            nullable=False,
            comment="the event (or reminder/digest key) that called for the message",
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False, comment="e-mail address or E.164 mobile; shown masked"),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column(
            "context",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="non-secret template data; rendered at send time",
        ),
        sa.Column(
            "sealed_secret",
            sa.Text(),
            nullable=True,
            comment="sealed box opened only at send time (invitation credentials)",
        ),
        sa.Column("application_id", sa.UUID(), nullable=True),
        sa.Column("institution_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("resends", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="when a worker may take it; a claim pushes it forward by the lease",
        ),
        sa.Column("provider_ref", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_deliveries_channel"),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed', 'dead')", name="ck_deliveries_status"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_event_id", "channel", "recipient", name="uq_deliveries_event_channel_recipient"),
    )
    op.create_index("ix_deliveries_application", "deliveries", ["application_id"], unique=False)
    op.create_index("ix_deliveries_created", "deliveries", ["created_at"], unique=False)
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index("ix_deliveries_institution", "deliveries", ["institution_id", "created_at"], unique=False)
    op.create_table(
        "institutions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "officer_digests",
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("holders", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", "period"),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("mobile", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_officers_institution_id"), "officers", ["institution_id"], unique=False)
    op.create_table(
        "recipients",
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("mobile", sa.Text(), nullable=True),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_table(
        "expiry_reminders",
        sa.Column("certificate_id", sa.UUID(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column(
            "status", sa.Text(), nullable=False, comment="sent, or skipped (its day passed while a later step was due)"
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('sent', 'skipped')", name="ck_expiry_reminders_status"),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
        ),
        sa.PrimaryKeyConstraint("certificate_id", "days_before"),
    )


def downgrade() -> None:
    op.drop_table("expiry_reminders")
    op.drop_table("recipients")
    op.drop_index(op.f("ix_officers_institution_id"), table_name="officers")
    op.drop_table("officers")
    op.drop_table("officer_digests")
    op.drop_table("institutions")
    op.drop_index("ix_deliveries_institution", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries", postgresql_where=sa.text("status = 'queued'"))
    op.drop_index("ix_deliveries_created", table_name="deliveries")
    op.drop_index("ix_deliveries_application", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index(op.f("ix_certificates_institution_id"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_holder_id"), table_name="certificates")
    op.drop_index(
        "ix_certificates_active_expiry",
        table_name="certificates",
        postgresql_where=sa.text("superseded_at IS NULL AND renewal_recorded_at IS NULL"),
    )
    op.drop_table("certificates")
    drop_messaging_tables()

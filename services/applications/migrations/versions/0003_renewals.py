"""renewal with e-approval: application kind, renewals, sign-in challenges, prepared signatures

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA, JSONB

from esign.rate_limit import create_rate_limit_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "applications",
        sa.Column("kind", sa.Text(), nullable=False, server_default="first", comment="first | renewal"),
    )
    op.add_column(
        "applications",
        sa.Column(
            "renews_application_id",
            sa.UUID(),
            sa.ForeignKey("applications.id"),
            comment="a renewal: the application whose certificate it renews",
        ),
    )
    op.create_index("ix_applications_renews_application_id", "applications", ["renews_application_id"])
    op.create_table(
        "renewals",
        sa.Column("application_id", sa.UUID(), sa.ForeignKey("applications.id"), primary_key=True),
        sa.Column("renewed_application_id", sa.UUID(), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("certificate_der", BYTEA(), nullable=False, comment="the card certificate the holder signed in with"),
        sa.Column("certificate_fingerprint", sa.Text(), nullable=False, comment="SHA-256 of its DER, hex"),
        sa.Column("old_serial", sa.Text(), nullable=False),
        sa.Column("old_not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("e_approved_at", sa.DateTime(timezone=True)),
        sa.Column("signed_pdf", BYTEA(), comment="the PAdES-signed renewal request"),
        sa.Column("validation_report", JSONB()),
        sa.Column("form_token_hash", sa.Text(), unique=True, comment="SHA-256 of the Renewal Form link secret"),
        sa.Column("form_link_expires_at", sa.DateTime(timezone=True)),
        sa.Column("form_approved_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("ix_renewals_renewed_application_id", "renewals", ["renewed_application_id"])
    op.create_table(
        "renewal_challenges",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "nonce_hash", BYTEA(), nullable=False, comment="SHA-256 of the nonce; the nonce itself is never kept"
        ),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_renewal_challenges_expires_at", "renewal_challenges", ["expires_at"])
    op.create_table(
        "renewal_preparations",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("renewal_id", sa.UUID(), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("certificate_fingerprint", sa.Text(), nullable=False),
        sa.Column("mechanism", sa.Text(), nullable=False),
        sa.Column("signed_attributes", BYTEA(), nullable=False, comment="exactly the DER the card signs"),
        sa.Column("state", JSONB(), nullable=False, comment="byte range digest and reserved region"),
        sa.Column("pdf", BYTEA(), nullable=False, comment="the PDF with its signature placeholder"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_renewal_preparations_renewal_id", "renewal_preparations", ["renewal_id"])
    create_rate_limit_table()  # esign.rate_limit: the public renewal endpoints' per-address counter


def downgrade() -> None:
    op.drop_table("rate_limit_windows")
    op.drop_table("renewal_preparations")
    op.drop_table("renewal_challenges")
    op.drop_table("renewals")
    op.drop_index("ix_applications_renews_application_id", table_name="applications")
    op.drop_column("applications", "renews_application_id")
    op.drop_column("applications", "kind")

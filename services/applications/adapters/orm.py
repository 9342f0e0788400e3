"""The applications service's tables (SQLAlchemy Core). The domain objects stay plain; the
repositories translate between rows and aggregates."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, JSONB, UUID

from esign.messaging_tables import define_messaging_tables
from esign.rate_limit import define_rate_limit_table

metadata = sa.MetaData()
messaging = define_messaging_tables(metadata)
rate_limit_windows = define_rate_limit_table(metadata)  # the public renewal endpoints, per client address

_now = sa.text("now()")


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    ]


institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    *_timestamps(),
)

officers = sa.Table(
    "officers",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "institution_id",
        UUID(as_uuid=True),
        sa.ForeignKey("institutions.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("subject", sa.Text, nullable=False, unique=True, comment="the officer's login (token `sub`)"),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("mobile", sa.Text),
    *_timestamps(),
)

people = sa.Table(
    "people",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("institution_id", UUID(as_uuid=True), sa.ForeignKey("institutions.id"), nullable=False),
    # Personal data encrypted at rest (adapters/personal_data.py): AES-GCM bound to this row and
    # column; the keyed hash finds a TC Kimlik No and keeps it unique per institution. Every
    # personal column is null once the person is erased (erased_at; adapters/people_erasure.py).
    sa.Column("tckn_encrypted", sa.Text, comment="personal data: encrypted, never logged"),
    sa.Column("tckn_hash", sa.String(64), comment="HMAC-SHA256 of the TC Kimlik No (keyed)"),
    sa.Column("tckn_hash_key", sa.Text, comment="id of the look-up key tckn_hash was computed with"),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("birth_date_encrypted", sa.Text, comment="personal data: encrypted"),
    sa.Column("birth_place_encrypted", sa.Text, comment="personal data: encrypted; null when the staff list had none"),
    sa.Column("title", sa.Text),
    sa.Column("unit", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("mobile", sa.String(13)),
    sa.Column("erased_at", sa.DateTime(timezone=True), comment="personal data removed at the end of its purpose"),
    *_timestamps(),
    sa.UniqueConstraint("institution_id", "tckn_hash", name="uq_people_institution_tckn_hash"),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "institution_id",
        UUID(as_uuid=True),
        sa.ForeignKey("institutions.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("institution_id", UUID(as_uuid=True), sa.ForeignKey("institutions.id"), nullable=False),
    sa.Column("person_id", UUID(as_uuid=True), sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("form", JSONB, nullable=False, server_default="{}"),
    sa.Column("security_word_hash", sa.Text),
    sa.Column("signed_form", JSONB),
    sa.Column("batch_id", UUID(as_uuid=True), sa.ForeignKey("batches.id"), index=True),
    sa.Column("rejection_reason", sa.Text),
    sa.Column("certificate", JSONB),
    sa.Column("shipment", JSONB),
    sa.Column("kind", sa.Text, nullable=False, server_default="first", comment="first | renewal"),
    sa.Column(
        "renews_application_id",
        UUID(as_uuid=True),
        sa.ForeignKey("applications.id"),
        index=True,
        comment="a renewal: the application whose certificate it renews",
    ),
    sa.Column("version", sa.Integer, nullable=False, server_default="0", comment="optimistic lock"),
    *_timestamps(),
    sa.Index("ix_applications_institution_status", "institution_id", "status"),
)

invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "application_id",
        UUID(as_uuid=True),
        sa.ForeignKey("applications.id"),
        nullable=False,
        unique=True,
    ),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, unique=True),
    sa.Column("password_hash", sa.Text),
    sa.Column("issued_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("times_issued", sa.Integer, nullable=False, server_default="0"),
    *_timestamps(),
    sa.Index("ix_invitations_pending", "created_at", postgresql_where=sa.text("state = 'pending'")),
)

transitions = sa.Table(
    "transitions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "application_id",
        UUID(as_uuid=True),
        sa.ForeignKey("applications.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("from_status", sa.Text, nullable=False),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("actor_subject", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

expiry_warnings = sa.Table(
    "expiry_warnings",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True, comment="the notifications event: one row per warning"),
    sa.Column("application_id", UUID(as_uuid=True), sa.ForeignKey("applications.id"), nullable=False, index=True),
    sa.Column("certificate_serial", sa.Text, nullable=False),
    sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
    sa.Column("days_before", sa.Integer, nullable=False),
    sa.Column("warned_at", sa.DateTime(timezone=True), nullable=False),
)

renewals = sa.Table(
    "renewals",
    metadata,
    sa.Column("application_id", UUID(as_uuid=True), sa.ForeignKey("applications.id"), primary_key=True),
    sa.Column(
        "renewed_application_id", UUID(as_uuid=True), sa.ForeignKey("applications.id"), nullable=False, index=True
    ),
    sa.Column("certificate_der", BYTEA, comment="the card certificate the holder signed in with; null once erased"),
    sa.Column("certificate_fingerprint", sa.Text, comment="SHA-256 of its DER, hex; null once erased"),
    sa.Column("old_serial", sa.Text, nullable=False),
    sa.Column("old_not_after", sa.DateTime(timezone=True), nullable=False),
    sa.Column("e_approved_at", sa.DateTime(timezone=True)),
    sa.Column("signed_pdf", BYTEA, comment="the PAdES-signed renewal request"),
    sa.Column("validation_report", JSONB),
    sa.Column("form_token_hash", sa.Text, unique=True, comment="SHA-256 of the Renewal Form link secret"),
    sa.Column("form_link_expires_at", sa.DateTime(timezone=True)),
    sa.Column("form_approved_at", sa.DateTime(timezone=True)),
    *_timestamps(),
)

renewal_challenges = sa.Table(
    "renewal_challenges",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("nonce_hash", BYTEA, nullable=False, comment="SHA-256 of the nonce; the nonce itself is never kept"),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

renewal_preparations = sa.Table(
    "renewal_preparations",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("renewal_id", UUID(as_uuid=True), sa.ForeignKey("applications.id"), nullable=False, index=True),
    sa.Column("certificate_fingerprint", sa.Text, nullable=False),
    sa.Column("mechanism", sa.Text, nullable=False),
    sa.Column("signed_attributes", BYTEA, nullable=False, comment="exactly the DER the card signs"),
    sa.Column("state", JSONB, nullable=False, comment="byte range digest and reserved region"),
    sa.Column("pdf", BYTEA, nullable=False, comment="the PDF with its signature placeholder"),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

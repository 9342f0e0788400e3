"""The notifications service's tables (SQLAlchemy Core)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from esign.messaging_tables import define_messaging_tables

metadata = sa.MetaData()
messaging = define_messaging_tables(metadata)

_now = sa.text("now()")


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


# Who to write to about an application, fed by the applications service's events; shipment
# events carry only the application id and are addressed through it.
recipients = sa.Table(
    "recipients",
    metadata,
    sa.Column("application_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("institution_id", UUID(as_uuid=True), nullable=False),
    sa.Column("first_name", sa.Text, nullable=False),
    sa.Column("last_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("mobile", sa.Text),
    sa.Column("locale", sa.Text, nullable=False),
    _ts("updated_at", nullable=False, server_default=_now),
)

institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)

officers = sa.Table(
    "officers",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("institution_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("mobile", sa.Text),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "source_event_id",
        UUID(as_uuid=True),
        nullable=False,
        comment="the event (or reminder/digest key) that called for the message",
    ),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False, comment="e-mail address or E.164 mobile; shown masked"),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("context", JSONB, nullable=False, comment="non-secret template data; rendered at send time"),
    sa.Column("sealed_secret", sa.Text, comment="sealed box opened only at send time (invitation credentials)"),
    sa.Column("application_id", UUID(as_uuid=True)),
    sa.Column("institution_id", UUID(as_uuid=True)),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("resends", sa.Integer, nullable=False, server_default="0"),
    _ts(
        "next_attempt_at",
        nullable=False,
        server_default=_now,
        comment="when a worker may take it; a claim pushes it forward by the lease",
    ),
    sa.Column("provider_ref", sa.Text),
    sa.Column("last_error", sa.Text),
    _ts("created_at", nullable=False, server_default=_now),
    _ts("updated_at", nullable=False, server_default=_now),
    _ts("sent_at"),
    _ts("contact_masked_at", comment="retention: the recipient masked, the template data removed"),
    sa.CheckConstraint("status IN ('queued', 'sent', 'failed', 'dead', 'cancelled')", name="ck_deliveries_status"),
    sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_deliveries_channel"),
)
# One delivery per (event, channel, recipient) while the recipient is still in the clear: a
# replayed event adds nothing. Masked rows are history and outside the deduplication window.
sa.Index(
    "uq_deliveries_event_channel_recipient",
    deliveries.c.source_event_id,
    deliveries.c.channel,
    deliveries.c.recipient,
    unique=True,
    postgresql_where=deliveries.c.contact_masked_at.is_(None),
)
sa.Index(
    "ix_deliveries_unmasked",
    deliveries.c.created_at,
    postgresql_where=sa.text("contact_masked_at IS NULL AND status <> 'queued'"),
)
sa.Index("ix_deliveries_due", deliveries.c.next_attempt_at, postgresql_where=deliveries.c.status == "queued")
sa.Index("ix_deliveries_created", deliveries.c.created_at)
sa.Index("ix_deliveries_application", deliveries.c.application_id)
sa.Index("ix_deliveries_institution", deliveries.c.institution_id, deliveries.c.created_at)

certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("serial", sa.Text, nullable=False, unique=True),
    sa.Column("holder_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("application_id", UUID(as_uuid=True), nullable=False),
    sa.Column("institution_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("first_name", sa.Text, nullable=False),
    sa.Column("last_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("mobile", sa.Text),
    sa.Column("locale", sa.Text, nullable=False),
    _ts("not_after", nullable=False),
    _ts("produced_at", nullable=False),
    _ts("superseded_at", comment="a newer certificate.produced for the same holder"),
    _ts("renewal_recorded_at", comment="the holder asked to renew: reminders stop"),
)
sa.Index(
    "ix_certificates_active_expiry",
    certificates.c.not_after,
    postgresql_where=sa.and_(certificates.c.superseded_at.is_(None), certificates.c.renewal_recorded_at.is_(None)),
)

expiry_reminders = sa.Table(
    "expiry_reminders",
    metadata,
    sa.Column("certificate_id", UUID(as_uuid=True), sa.ForeignKey("certificates.id"), primary_key=True),
    sa.Column("days_before", sa.Integer, primary_key=True),
    sa.Column(
        "status", sa.Text, nullable=False, comment="sent, or skipped (its day passed while a later step was due)"
    ),
    _ts("decided_at", nullable=False),
    sa.CheckConstraint("status IN ('sent', 'skipped')", name="ck_expiry_reminders_status"),
)

officer_digests = sa.Table(
    "officer_digests",
    metadata,
    sa.Column("institution_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("holders", sa.Integer, nullable=False),
    _ts("sent_at", nullable=False),
)

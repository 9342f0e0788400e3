"""The tracking service's tables (SQLAlchemy Core)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from esign.messaging_tables import define_messaging_tables
from esign.rate_limit import define_rate_limit_table

metadata = sa.MetaData()
messaging = define_messaging_tables(metadata)
rate_limit_windows = define_rate_limit_table(metadata)

_now = sa.text("now()")
_ts = sa.DateTime(timezone=True)

shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, comment="also the carrier's idempotency key"),
    sa.Column("application_id", UUID(as_uuid=True), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1", comment="1 = first shipment"),
    sa.Column(
        "previous_shipment_id",
        UUID(as_uuid=True),
        sa.ForeignKey("shipments.id"),
        comment="the returned shipment this one ships again",
    ),
    sa.Column("institution_id", UUID(as_uuid=True), nullable=False),
    sa.Column("holder_id", UUID(as_uuid=True), nullable=False),
    # Personal data, kept until a while after delivery (docs/personal-data.md), then set to null.
    sa.Column("recipient_name", sa.Text, comment="personal data"),
    sa.Column("mobile", sa.Text, comment="personal data; masked in listings"),
    sa.Column("delivery_address", JSONB, comment="personal data"),
    sa.Column("recipient_erased_at", _ts, comment="when the recipient's name, mobile and address were removed"),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("contents", JSONB, nullable=False, comment="card type, card reader type"),
    sa.Column("carrier", sa.Text, nullable=False),
    sa.Column("carrier_name", sa.Text, comment="the carrier's display name; null in rows before 0002"),
    sa.Column("tracking_number", sa.Text, unique=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_at", _ts, comment="carrier time of the last applied update"),
    sa.Column("handed_over_at", _ts),
    sa.Column("stuck_flagged_at", _ts),
    # Registration with the carrier (a worker; several replicas claim rows with a lease).
    sa.Column("registered_at", _ts),
    sa.Column("registration_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", _ts, nullable=False, server_default=_now),
    sa.Column("lease_until", _ts),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", _ts, nullable=False, server_default=_now),
    sa.Column("updated_at", _ts, nullable=False, server_default=_now),
    # One shipment per application and attempt; a returned one is shipped again at most once.
    sa.UniqueConstraint("application_id", "attempt", name="uq_shipments_application_attempt"),
    sa.UniqueConstraint("previous_shipment_id", name="uq_shipments_previous"),
)
sa.Index(
    "ix_shipments_unregistered", shipments.c.next_attempt_at, postgresql_where=shipments.c.tracking_number.is_(None)
)
sa.Index(
    "ix_shipments_open_handed_over",
    shipments.c.handed_over_at,
    postgresql_where=sa.text("stuck_flagged_at IS NULL AND status NOT IN ('delivered', 'returned')"),
)
sa.Index("ix_shipments_status", shipments.c.status, shipments.c.created_at)
sa.Index(
    "ix_shipments_delivered_with_recipient",
    shipments.c.status_at,
    postgresql_where=sa.text("status = 'delivered' AND recipient_erased_at IS NULL"),
)

shipment_timeline = sa.Table(
    "shipment_timeline",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("shipment_id", UUID(as_uuid=True), sa.ForeignKey("shipments.id"), nullable=False, index=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("occurred_at", _ts, nullable=False),
    sa.Column("location", sa.Text),
    sa.Column("recorded_at", _ts, nullable=False, server_default=_now),
)

carrier_events = sa.Table(
    "carrier_events",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("carrier", sa.Text, nullable=False),
    sa.Column("carrier_event_id", sa.Text, nullable=False),
    sa.Column("tracking_number", sa.Text, nullable=False, index=True),
    sa.Column(
        "shipment_id",
        UUID(as_uuid=True),
        sa.ForeignKey("shipments.id"),
        index=True,
        comment="null while the tracking number is not known yet (an update that beat our registration)",
    ),
    sa.Column("raw", JSONB, nullable=False, comment="the carrier's event, verbatim"),
    sa.Column("carrier_status", sa.Text, nullable=False),
    sa.Column("status", sa.Text, comment="normalised; null when the carrier's word is unknown"),
    sa.Column("occurred_at", _ts, nullable=False),
    sa.Column(
        "outcome", sa.Text, nullable=False, comment="applied, stale, not_forward, unknown_status, unknown_shipment"
    ),
    sa.Column("received_at", _ts, nullable=False),
    sa.UniqueConstraint("carrier", "carrier_event_id", name="uq_carrier_events_carrier_event"),
)

webhook_receipts = sa.Table(
    "webhook_receipts",
    metadata,
    sa.Column(
        "digest", sa.Text, primary_key=True, comment="sha256 of the accepted signature: a replay has the same one"
    ),
    sa.Column("received_at", _ts, nullable=False, index=True),
)

"""Tables every service keeps for reliable messaging, in its own database:

- ``outbox``: events written in the same transaction as the state change that caused them;
- ``processed_events``: (consumer, event id) handled, written with the handler's effect;
- ``dead_letters``: messages that exhausted their deliveries, kept for an operator to replay.

Each service's ORM metadata calls ``define_messaging_tables`` and its first migration calls
``create_messaging_tables`` so the shapes live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

# What a dead letter's payload becomes when its retention period is over (esign.retention): the
# column stays NOT NULL, the row stays, and nothing of the message is left.
PAYLOAD_REMOVED = b""


@dataclass(frozen=True)
class MessagingTables:
    outbox: sa.Table
    processed_events: sa.Table
    dead_letters: sa.Table


def _columns() -> dict[str, list[sa.Column]]:
    now = sa.text("now()")
    return {
        "outbox": [
            sa.Column("id", UUID(as_uuid=True), primary_key=True, comment="event id = Nats-Msg-Id"),
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("envelope", JSONB, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
            sa.Column("published_at", sa.DateTime(timezone=True)),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True, comment="publication order"),
        ],
        "processed_events": [
            sa.Column("consumer", sa.Text, primary_key=True),
            sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
            sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        ],
        "dead_letters": [
            sa.Column("id", UUID(as_uuid=True), primary_key=True),
            sa.Column("consumer", sa.Text, nullable=False),
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("event_id", UUID(as_uuid=True)),
            sa.Column("payload", sa.LargeBinary, nullable=False),
            sa.Column("error", sa.Text, nullable=False),
            sa.Column("deliveries", sa.Integer, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
            sa.Column("replayed_at", sa.DateTime(timezone=True)),
        ],
    }


_INDEXES = [
    ("ix_outbox_unpublished", "outbox", ["seq"], sa.text("published_at IS NULL")),
    ("ix_dead_letters_open", "dead_letters", ["created_at"], sa.text("replayed_at IS NULL")),
]


def define_messaging_tables(metadata: sa.MetaData) -> MessagingTables:
    tables = {name: sa.Table(name, metadata, *cols) for name, cols in _columns().items()}
    for name, table, cols, where in _INDEXES:
        sa.Index(name, *(tables[table].c[c] for c in cols), postgresql_where=where)
    return MessagingTables(**tables)


def create_messaging_tables() -> None:
    """For a service's first Alembic migration."""
    from alembic import op

    for name, cols in _columns().items():
        op.create_table(name, *cols)
    for index_name, table, index_cols, where in _INDEXES:
        op.create_index(index_name, table, index_cols, postgresql_where=where)


def drop_messaging_tables() -> None:
    from alembic import op

    for name in reversed(list(_columns())):
        op.drop_table(name)

"""The look-up hash of the TC Kimlik No stored with the id of the key that computed it

Revision ID: 0008
Revises: 0007

So the look-up key can rotate: look-ups try every configured key, and the re-encryption worker
recomputes hashes made under an older one (docs/personal-data.md). Existing hashes were made with
the one look-up key there was: the first of ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY if it is already
given as an id list, else the bare key's id ``l1`` (esign.field_crypto.LEGACY_LOOKUP_KEY_ID).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from esign.field_crypto import LEGACY_LOOKUP_KEY_ID
    from esign.migrations import setting

    op.add_column(
        "people", sa.Column("tckn_hash_key", sa.Text(), comment="id of the look-up key tckn_hash was computed with")
    )
    configured = (setting("ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY") or "").strip()
    key_id = configured.partition(":")[0] if ":" in configured else LEGACY_LOOKUP_KEY_ID
    op.execute(sa.text("UPDATE people SET tckn_hash_key = :k WHERE tckn_hash IS NOT NULL").bindparams(k=key_id))


def downgrade() -> None:
    op.drop_column("people", "tckn_hash_key")

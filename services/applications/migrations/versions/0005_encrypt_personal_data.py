"""TC Kimlik No and birth date encrypted at rest, with a keyed hash for look-ups

Revision ID: 0005
Revises: 0004

Rows stored before are encrypted here with the keys in ESIGN_APPLICATIONS_FIELD_KEYS and
ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY (the migration container gets the service's Secret); with
rows to encrypt and no keys it stops before changing anything. Then the plaintext columns go.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    from esign.migrations import setting
    from services.applications.adapters.personal_data import people_codec
    from services.applications.config import ApplicationsSettings

    op.add_column("people", sa.Column("tckn_encrypted", sa.Text()))
    op.add_column("people", sa.Column("tckn_hash", sa.String(64)))
    op.add_column("people", sa.Column("birth_date_encrypted", sa.Text()))
    connection = op.get_bind()
    if connection.scalar(sa.text("SELECT count(*) FROM people")):
        # With a database URL set, unset keys are refused (never random keys nobody keeps).
        settings = ApplicationsSettings(
            database_url="postgresql://migration",
            field_keys=setting("ESIGN_APPLICATIONS_FIELD_KEYS"),
            field_lookup_key=setting("ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY"),
        )
        codec = people_codec(settings)
        last: uuid.UUID | None = None
        while True:
            rows = connection.execute(
                sa.text(
                    "SELECT id, tckn, birth_date FROM people WHERE (CAST(:last AS uuid) IS NULL OR id > :last) "
                    "ORDER BY id LIMIT :n"
                ),
                {"last": last, "n": _BATCH},
            ).all()
            if not rows:
                break
            connection.execute(
                sa.text(
                    "UPDATE people SET tckn_encrypted = :t, tckn_hash = :h, birth_date_encrypted = :b WHERE id = :id"
                ),
                [
                    {
                        "id": row.id,
                        "t": codec.seal_tckn(row.id, row.tckn),
                        "h": codec.tckn_hash(row.tckn),
                        "b": codec.seal_birth_date(row.id, row.birth_date),
                    }
                    for row in rows
                ],
            )
            last = rows[-1].id
    op.drop_constraint("uq_people_institution_tckn", "people", type_="unique")
    op.drop_column("people", "tckn")
    op.drop_column("people", "birth_date")
    for column in ("tckn_encrypted", "tckn_hash", "birth_date_encrypted"):
        op.alter_column("people", column, nullable=False)
    op.create_unique_constraint("uq_people_institution_tckn_hash", "people", ["institution_id", "tckn_hash"])


def downgrade() -> None:
    raise NotImplementedError("decrypting personal data back into plaintext columns is not offered")

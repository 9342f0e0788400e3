"""The place of birth encrypted at rest like the birth date

Revision ID: 0006
Revises: 0005

Rows stored before are encrypted with the keys in ESIGN_APPLICATIONS_FIELD_KEYS (as in 0005: with
rows to encrypt and no keys it stops before changing anything). Then the plaintext column goes.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    from esign.migrations import setting
    from services.applications.adapters.personal_data import people_codec
    from services.applications.config import ApplicationsSettings

    op.add_column(
        "people",
        sa.Column(
            "birth_place_encrypted", sa.Text(), comment="personal data: encrypted; null when the staff list had none"
        ),
    )
    connection = op.get_bind()
    if connection.scalar(sa.text("SELECT count(*) FROM people WHERE birth_place IS NOT NULL")):
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
                    "SELECT id, birth_place FROM people WHERE birth_place IS NOT NULL "
                    "AND (CAST(:last AS uuid) IS NULL OR id > :last) ORDER BY id LIMIT :n"
                ),
                {"last": last, "n": _BATCH},
            ).all()
            if not rows:
                break
            connection.execute(
                sa.text("UPDATE people SET birth_place_encrypted = :b WHERE id = :id"),
                [{"id": row.id, "b": codec.seal_birth_place(row.id, row.birth_place)} for row in rows],
            )
            last = rows[-1].id
    op.drop_column("people", "birth_place")


def downgrade() -> None:
    raise NotImplementedError("decrypting personal data back into a plaintext column is not offered")

"""deliveries: a 'cancelled' status for messages to a person erased before they went out

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_deliveries_status", "deliveries", type_="check")
    op.create_check_constraint(
        "ck_deliveries_status", "deliveries", "status IN ('queued', 'sent', 'failed', 'dead', 'cancelled')"
    )


def downgrade() -> None:
    # A cancelled delivery never went out and will not: closest is 'dead' (given up).
    op.execute("UPDATE deliveries SET status = 'dead' WHERE status = 'cancelled'")
    op.drop_constraint("ck_deliveries_status", "deliveries", type_="check")
    op.create_check_constraint("ck_deliveries_status", "deliveries", "status IN ('queued', 'sent', 'failed', 'dead')")

"""Check-in at the door: a ticket's admission, the scan log and the scanner apps' tokens."""

import sqlalchemy as sa
from alembic import op

from mierloos_adapters.migrations.shapes import create_entity_table, moment, one_of, references

revision = "0012"
down_revision = "0011"

_RESULTS = (
    "admitted",
    "already_admitted",
    "other_performance",
    "refunded",
    "cancelled",
    "unpaid",
    "unknown",
    "undone",
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("admitted_door", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("admitted_by", sa.String(length=254), nullable=True))
    create_entity_table(
        "door_scans",
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("door", sa.String(length=60), nullable=False),
        sa.Column("staff", sa.String(length=254), nullable=False),
        moment("scanned_at"),
        sa.Column("offline", sa.Boolean(), nullable=False),
        one_of("door_scans", "result", _RESULTS),
        references("door_scans", "performance_id", "performances"),
        references("door_scans", "ticket_id", "tickets", ondelete="SET NULL"),
        indexes=[("ticket_id",), ("performance_id", "scanned_at")],
    )
    create_entity_table(
        "device_tokens",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("performance_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        moment("created_at"),
        moment("revoked_at", nullable=True),
        references("device_tokens", "performance_id", "performances"),
        unique=["token_hash"],
        indexes=[("performance_id",)],
    )


def downgrade() -> None:
    op.drop_table("device_tokens")
    op.drop_table("door_scans")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("admitted_by")
        batch.drop_column("admitted_door")
        batch.drop_column("admitted_at")

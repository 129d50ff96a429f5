"""Check-in at the door: a ticket's admission, the scan log and the scanner apps' tokens."""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"

_RESULTS = (
    "result IN ('admitted', 'already_admitted', 'other_performance', 'refunded', "
    "'cancelled', 'unpaid', 'unknown', 'undone')"
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("admitted_door", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("admitted_by", sa.String(length=254), nullable=True))
    op.create_table(
        "door_scans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("door", sa.String(length=60), nullable=False),
        sa.Column("staff", sa.String(length=254), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.CheckConstraint(_RESULTS, name=op.f("ck_door_scans_result_valid")),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performances.id"],
            name=op.f("fk_door_scans_performance_id_performances"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_door_scans_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_door_scans")),
    )
    op.create_index(op.f("ix_door_scans_ticket_id"), "door_scans", ["ticket_id"])
    op.create_index(
        op.f("ix_door_scans_performance_id_scanned_at"),
        "door_scans",
        ["performance_id", "scanned_at"],
    )
    op.create_table(
        "device_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("performance_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performances.id"],
            name=op.f("fk_device_tokens_performance_id_performances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_device_tokens_token_hash")),
    )
    op.create_index(op.f("ix_device_tokens_performance_id"), "device_tokens", ["performance_id"])


def downgrade() -> None:
    op.drop_table("device_tokens")
    op.drop_table("door_scans")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("admitted_by")
        batch.drop_column("admitted_door")
        batch.drop_column("admitted_at")

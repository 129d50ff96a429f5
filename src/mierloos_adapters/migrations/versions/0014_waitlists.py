"""Waiting lists of sold-out performances: the seats held for each list, and its entries.

No existing row changes: a performance without a `waitlists` row has its list enabled and
holds nothing for it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"

_STATUS = "status IN ('waiting', 'offered', 'converted', 'removed', 'left', 'expired')"


def upgrade() -> None:
    op.create_table(
        "waitlists",
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.CheckConstraint("held >= 0", name=op.f("ck_waitlists_held_not_negative")),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performances.id"],
            name=op.f("fk_waitlists_performance_id_performances"),
        ),
        sa.PrimaryKeyConstraint("performance_id", name=op.f("pk_waitlists")),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("offer_order_id", sa.Uuid(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_STATUS, name=op.f("ck_waitlist_entries_status_valid")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_waitlist_entries_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performances.id"],
            name=op.f("fk_waitlist_entries_performance_id_performances"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["price_categories.id"],
            name=op.f("fk_waitlist_entries_category_id_price_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_order_id"],
            ["orders.id"],
            name=op.f("fk_waitlist_entries_offer_order_id_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_waitlist_entries_token_hash")),
        sa.UniqueConstraint("offer_order_id", name=op.f("uq_waitlist_entries_offer_order_id")),
        sa.UniqueConstraint(
            "performance_id", "email", name="uq_waitlist_entries_performance_email"
        ),
    )
    op.create_index(
        "ix_waitlist_entries_performance_status",
        "waitlist_entries",
        ["performance_id", "status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_waitlist_entries_performance_status", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
    op.drop_table("waitlists")

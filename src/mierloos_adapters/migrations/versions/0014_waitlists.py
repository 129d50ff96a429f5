"""Waiting lists of sold-out performances: the seats held for each list, and its entries.

No existing row changes: a performance without a `waitlists` row has its list enabled and
holds nothing for it.
"""

import sqlalchemy as sa
from alembic import op

from mierloos_adapters.migrations.shapes import (
    check,
    create_entity_table,
    moment,
    one_of,
    references,
)

revision = "0014"
down_revision = "0013"

_STATUSES = ("waiting", "offered", "converted", "removed", "left", "expired")


def upgrade() -> None:
    op.create_table(
        "waitlists",
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        check("waitlists", "held_not_negative", "held >= 0"),
        references("waitlists", "performance_id", "performances"),
        sa.PrimaryKeyConstraint("performance_id", name=op.f("pk_waitlists")),
    )
    create_entity_table(
        "waitlist_entries",
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        moment("created_at"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("offer_order_id", sa.Uuid(), nullable=True),
        moment("offered_at", nullable=True),
        one_of("waitlist_entries", "status", _STATUSES),
        check("waitlist_entries", "quantity_positive", "quantity >= 1"),
        references("waitlist_entries", "performance_id", "performances"),
        references("waitlist_entries", "category_id", "price_categories"),
        references("waitlist_entries", "offer_order_id", "orders"),
        unique=[
            "token_hash",
            "offer_order_id",
            sa.UniqueConstraint(
                "performance_id", "email", name="uq_waitlist_entries_performance_email"
            ),
        ],
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

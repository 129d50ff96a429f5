"""Refunds of paid orders: one row per refund, its provider id and status."""

import sqlalchemy as sa
from alembic import op

from mierloos_adapters.migrations.shapes import (
    check,
    create_entity_table,
    moment,
    one_of,
    references,
)

revision = "0004"
down_revision = "0003"

_STATUSES = ("requested", "queued", "pending", "processing", "refunded", "failed", "canceled")


def upgrade() -> None:
    create_entity_table(
        "refunds",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("whole", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=100), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        moment("created_at"),
        moment("updated_at", nullable=True),
        one_of("refunds", "status", _STATUSES),
        check("refunds", "amount_positive", "amount_cents > 0"),
        references("refunds", "order_id", "orders"),
        references("refunds", "payment_id", "payments"),
        unique=["provider_refund_id"],
        indexes=[("order_id",)],
    )


def downgrade() -> None:
    op.drop_table("refunds")  # and its index

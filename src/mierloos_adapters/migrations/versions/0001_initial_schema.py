"""The initial schema: shows, orders, coupons, payments, users and their tokens, images, jobs."""

import sqlalchemy as sa
from alembic import op

from mierloos_adapters.migrations.shapes import (
    check,
    create_entity_table,
    json_document,
    moment,
    one_of,
    references,
)

revision = "0001"
down_revision = None

_PAYMENT_STATUSES = ("open", "pending", "authorized", "paid", "failed", "canceled", "expired")


def upgrade() -> None:
    create_entity_table(
        "coupons",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=False),
        moment("valid_from", nullable=True),
        moment("valid_until", nullable=True),
        sa.Column("max_usages", sa.Integer(), nullable=True),
        sa.Column("usage_count", sa.Integer(), nullable=False),
        sa.Column("minimum_order_cents", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        one_of("coupons", "kind", ("percentage", "fixed")),
        check(
            "coupons",
            "usage_within_limit",
            "usage_count >= 0 AND (max_usages IS NULL OR usage_count <= max_usages)",
        ),
        unique=["code"],
    )
    create_entity_table(
        "jobs",
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("queue_name", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("data", json_document(), nullable=False),
        sa.Column("result", json_document(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("execution_count", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        moment("next_retry_at", nullable=True),
        moment("created_at"),
        moment("updated_at"),
        moment("completed_at", nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        moment("lease_expires_at", nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        one_of("jobs", "status", ("pending", "processing", "completed", "failed")),
        unique=["dedupe_key"],
        indexes=[("created_at",), ("lease_expires_at",), ("type", "status")],
    )
    op.create_index("ix_jobs_claim", "jobs", ["queue_name", "status", "next_retry_at"])

    create_entity_table(
        "shows",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image_id", sa.Uuid(), nullable=True),
        moment("created_at", nullable=True),
        unique=["slug"],
    )
    create_entity_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        moment("created_at"),
        moment("password_changed_at", nullable=True),
        one_of("users", "role", ("visitor", "staff")),
        unique=["email"],
    )
    create_entity_table(
        "images",
        sa.Column("show_id", sa.Uuid(), nullable=False),
        sa.Column("original_key", sa.String(length=500), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("variants", json_document(), nullable=False),
        moment("created_at"),
        one_of("images", "status", ("uploaded", "ready", "failed")),
        references("images", "show_id", "shows"),
        indexes=[("show_id",)],
    )
    create_entity_table(
        "orders",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("coupon_code", sa.String(length=50), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("newsletter", sa.Boolean(), nullable=False),
        moment("created_at"),
        moment("expires_at"),
        moment("paid_at", nullable=True),
        moment("closed_at", nullable=True),
        sa.Column("needs_attention", sa.Text(), nullable=True),
        one_of("orders", "status", ("pending", "paid", "cancelled", "expired", "refunded")),
        check("orders", "discount", "discount_cents >= 0 AND discount_cents <= subtotal_cents"),
        references("orders", "user_id", "users"),
        unique=["number", "secret"],
        indexes=[("email",), ("status", "expires_at")],
    )
    create_entity_table(
        "password_reset_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        moment("created_at"),
        moment("expires_at"),
        moment("used_at", nullable=True),
        references("password_reset_tokens", "user_id", "users", ondelete="CASCADE"),
        unique=["token_hash"],
        indexes=[("user_id", "created_at")],
    )
    create_entity_table(
        "performances",
        sa.Column("show_id", sa.Uuid(), nullable=False),
        moment("starts_at"),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("available_seats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("hall", sa.String(length=100), nullable=True),
        one_of("performances", "status", ("draft", "published", "cancelled", "archived")),
        check(
            "performances",
            "seats_within_capacity",
            "available_seats >= 0 AND available_seats <= capacity",
        ),
        check("performances", "price_not_negative", "price_cents >= 0"),
        references("performances", "show_id", "shows"),
        indexes=[("show_id",), ("status", "starts_at")],
    )
    create_entity_table(
        "coupon_usages",
        sa.Column("coupon_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        moment("created_at"),
        moment("released_at", nullable=True),
        references("coupon_usages", "coupon_id", "coupons"),
        references("coupon_usages", "order_id", "orders"),
        unique=["order_id"],
        indexes=[("coupon_id",)],
    )
    create_entity_table(
        "payments",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        moment("expires_at", nullable=True),
        moment("created_at"),
        moment("updated_at", nullable=True),
        one_of("payments", "status", _PAYMENT_STATUSES),
        references("payments", "order_id", "orders"),
        unique=["provider_payment_id"],
        indexes=[("order_id",)],
    )
    create_entity_table(
        "tickets",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        one_of("tickets", "status", ("reserved", "valid", "cancelled", "refunded")),
        references("tickets", "order_id", "orders", ondelete="CASCADE"),
        references("tickets", "performance_id", "performances"),
        unique=[
            sa.UniqueConstraint("order_id", "position", name="uq_tickets_order_position"),
            "secret",
        ],
        indexes=[("performance_id", "status")],
    )
    create_entity_table(
        "payment_events",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        moment("at"),
        sa.Column("source", sa.String(length=50), nullable=False),
        references("payment_events", "payment_id", "payments"),
        indexes=[("payment_id",)],
    )


def downgrade() -> None:
    # Dropping a table drops its indexes.
    for table in (
        "payment_events",
        "tickets",
        "payments",
        "coupon_usages",
        "performances",
        "password_reset_tokens",
        "orders",
        "images",
        "users",
        "shows",
        "jobs",
        "coupons",
    ):
        op.drop_table(table)

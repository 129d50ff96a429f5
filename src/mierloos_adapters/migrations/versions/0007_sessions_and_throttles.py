"""Server-side login sessions and shared throttle counters."""

import sqlalchemy as sa
from alembic import op

from mierloos_adapters.migrations.shapes import moment, references

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("staff", sa.Boolean(), nullable=False),
        moment("created_at"),
        moment("last_seen_at"),
        references("login_sessions", "user_id", "users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"])
    op.create_index(op.f("ix_login_sessions_last_seen_at"), "login_sessions", ["last_seen_at"])
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=400), nullable=False),
        moment("window_ends_at"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
    op.create_index(
        op.f("ix_throttle_counters_window_ends_at"), "throttle_counters", ["window_ends_at"]
    )


def downgrade() -> None:
    op.drop_table("throttle_counters")
    op.drop_table("login_sessions")

"""Orders are found by client address: checkout counts a client's unpaid tickets by it."""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_index("ix_orders_client_address", "orders", ["client_address"])


def downgrade() -> None:
    op.drop_index("ix_orders_client_address", table_name="orders")

"""Orders say where they were sold (web, kassa, telefoon), how they were paid (mollie, contant,
pin, gratis, overboeking, aan_de_kassa), by which staff member, why one was free, and until
when a phone booking holds its seats; a counter form's key makes a double click one order."""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

_CHANNELS = "'web', 'kassa', 'telefoon'"
_METHODS = "'mollie', 'contant', 'pin', 'gratis', 'overboeking', 'aan_de_kassa'"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("sales_channel", sa.String(20), nullable=False, server_default="web")
        )
        batch.add_column(
            sa.Column("payment_method", sa.String(20), nullable=False, server_default="mollie")
        )
        batch.add_column(sa.Column("sold_by", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("free_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("pay_before", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(40), nullable=True))
        batch.add_column(sa.Column("request_key", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_orders_request_key"), ["request_key"])
        batch.create_foreign_key(op.f("fk_orders_sold_by_users"), "users", ["sold_by"], ["id"])
        batch.create_check_constraint(
            op.f("ck_orders_sales_channel_valid"), f"sales_channel IN ({_CHANNELS})"
        )
        batch.create_check_constraint(
            op.f("ck_orders_payment_method_valid"), f"payment_method IN ({_METHODS})"
        )
    # The defaults filled the existing rows; new rows always name both (as tables.py says).
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("sales_channel", server_default=None)
        batch.alter_column("payment_method", server_default=None)
    op.create_index("ix_orders_paid_at", "orders", ["paid_at"])
    op.create_index("ix_orders_sales_channel_status", "orders", ["sales_channel", "status"])


def downgrade() -> None:
    op.drop_index("ix_orders_sales_channel_status", table_name="orders")
    op.drop_index("ix_orders_paid_at", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_payment_method_valid"), type_="check")
        batch.drop_constraint(op.f("ck_orders_sales_channel_valid"), type_="check")
        batch.drop_constraint(op.f("fk_orders_sold_by_users"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_orders_request_key"), type_="unique")
        for column in ("request_key", "phone", "pay_before", "free_reason", "sold_by"):
            batch.drop_column(column)
        batch.drop_column("payment_method")
        batch.drop_column("sales_channel")

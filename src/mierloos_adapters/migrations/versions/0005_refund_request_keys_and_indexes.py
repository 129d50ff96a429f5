"""A refund remembers the staff form's request key: the same (order, key) is one refund.

Plus indexes for queries that grow with the data: orders by user (account page), orders by
creation (staff search), open refunds (follow-up) and completed jobs (purge).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_refunds_order_id_request_key"), ["order_id", "request_key"]
        )
        batch.create_index(op.f("ix_refunds_status"), ["status"])
    with op.batch_alter_table("orders") as batch:
        batch.create_index(op.f("ix_orders_user_id"), ["user_id"])
        batch.create_index(op.f("ix_orders_created_at"), ["created_at"])
    with op.batch_alter_table("jobs") as batch:
        batch.create_index(op.f("ix_jobs_status_completed_at"), ["status", "completed_at"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index(op.f("ix_jobs_status_completed_at"))
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(op.f("ix_orders_created_at"))
        batch.drop_index(op.f("ix_orders_user_id"))
    with op.batch_alter_table("refunds") as batch:
        batch.drop_index(op.f("ix_refunds_status"))
        batch.drop_constraint(op.f("uq_refunds_order_id_request_key"), type_="unique")
        batch.drop_column("request_key")

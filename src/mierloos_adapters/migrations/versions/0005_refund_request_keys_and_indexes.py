"""A refund remembers the staff form's request key: the same (order, key) is one refund.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_refunds_order_id_request_key"), ["order_id", "request_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_constraint(op.f("uq_refunds_order_id_request_key"), type_="unique")
        batch.drop_column("request_key")

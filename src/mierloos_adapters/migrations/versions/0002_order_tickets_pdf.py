"""Where an order's ticket PDF is stored, and how big it is.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("tickets_pdf_key", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("tickets_pdf_pages", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("tickets_pdf_size", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("tickets_pdf_created_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("tickets_pdf_created_at")
        batch.drop_column("tickets_pdf_size")
        batch.drop_column("tickets_pdf_pages")
        batch.drop_column("tickets_pdf_key")

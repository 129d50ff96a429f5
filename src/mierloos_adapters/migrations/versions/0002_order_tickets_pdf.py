"""Where an order's ticket PDF is stored, and how big it is."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


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

"""Reports: a VAT rate per show (9 %, the Dutch rate for theatre tickets, unless staff change
it), and the indexes the period reports read by (refunds by date, performances by start)."""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    with op.batch_alter_table("shows") as batch:
        batch.add_column(
            sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False, server_default="9.00")
        )
        batch.create_check_constraint(
            op.f("ck_shows_vat_rate_valid"), "vat_rate >= 0 AND vat_rate <= 100"
        )
    op.create_index("ix_refunds_created_at", "refunds", ["created_at"])
    op.create_index("ix_performances_starts_at", "performances", ["starts_at"])


def downgrade() -> None:
    op.drop_index("ix_performances_starts_at", table_name="performances")
    op.drop_index("ix_refunds_created_at", table_name="refunds")
    with op.batch_alter_table("shows") as batch:
        batch.drop_constraint(op.f("ck_shows_vat_rate_valid"), type_="check")
        batch.drop_column("vat_rate")

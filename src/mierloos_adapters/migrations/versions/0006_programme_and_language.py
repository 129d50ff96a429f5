"""A show's genre, duration and age advice; the language an order was placed in."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("shows") as batch:
        batch.add_column(
            sa.Column("genre", sa.String(length=40), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("duration_minutes", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("age_advice", sa.String(length=20), nullable=False, server_default="")
        )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=5), nullable=False, server_default="nl")
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("shows") as batch:
        batch.drop_column("age_advice")
        batch.drop_column("duration_minutes")
        batch.drop_column("genre")

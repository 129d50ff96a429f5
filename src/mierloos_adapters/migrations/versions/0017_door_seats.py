"""The door's scan log names the seat of a reserved ticket, so a seat let in twice is seen."""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    with op.batch_alter_table("door_scans") as batch:
        batch.add_column(sa.Column("seat_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(op.f("fk_door_scans_seat_id_seats"), "seats", ["seat_id"], ["id"])
    op.create_index(
        op.f("ix_door_scans_performance_id_seat_id"), "door_scans", ["performance_id", "seat_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_door_scans_performance_id_seat_id"), table_name="door_scans")
    with op.batch_alter_table("door_scans") as batch:
        batch.drop_constraint(op.f("fk_door_scans_seat_id_seats"), type_="foreignkey")
        batch.drop_column("seat_id")

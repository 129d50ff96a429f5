"""Reserved seating: halls, seat plan versions and their seats, each reserved performance's
seats with a state (free, held, sold, blocked), and a performance's seating mode and plan."""

import sqlalchemy as sa
from alembic import op

from mierloos_adapters.migrations.shapes import (
    check,
    create_entity_table,
    moment,
    one_of,
    references,
)

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    create_entity_table("halls", sa.Column("name", sa.String(100), nullable=False), unique=["name"])
    create_entity_table(
        "seat_plans",
        sa.Column("hall_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        moment("created_at"),
        references("seat_plans", "hall_id", "halls"),
        unique=[sa.UniqueConstraint("hall_id", "version", name="uq_seat_plans_hall_version")],
    )
    _create_seats()
    _create_performance_seats()
    with op.batch_alter_table("performances") as batch:
        batch.add_column(
            sa.Column("seating_mode", sa.String(10), nullable=False, server_default="free")
        )
        batch.add_column(sa.Column("seat_plan_id", sa.Uuid()))
        batch.create_foreign_key(
            op.f("fk_performances_seat_plan_id_seat_plans"), "seat_plans", ["seat_plan_id"], ["id"]
        )
        batch.create_check_constraint(
            op.f("ck_performances_seating_mode_valid"), "seating_mode IN ('free', 'reserved')"
        )
        batch.create_check_constraint(
            op.f("ck_performances_reserved_has_plan"),
            "(seating_mode = 'reserved') = (seat_plan_id IS NOT NULL)",
        )


def _create_seats() -> None:
    create_entity_table(
        "seats",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("section", sa.String(40), nullable=False),
        sa.Column("row_label", sa.String(40), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("column_index", sa.Integer(), nullable=False),
        sa.Column("x", sa.Numeric(8, 2), nullable=False),
        sa.Column("y", sa.Numeric(8, 2), nullable=False),
        sa.Column("zone", sa.String(40), nullable=False),
        sa.Column("wheelchair", sa.Boolean(), nullable=False),
        sa.Column("companion", sa.Boolean(), nullable=False),
        sa.Column("restricted_view", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        references("seats", "plan_id", "seat_plans"),
        unique=[
            sa.UniqueConstraint(
                "plan_id", "section", "row_label", "number", name="uq_seats_plan_number"
            )
        ],
        indexes=[("plan_id",)],
    )


def _create_performance_seats() -> None:
    op.create_table(
        "performance_seats",
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("seat_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("ticket_id", sa.Uuid()),
        sa.PrimaryKeyConstraint("performance_id", "seat_id", name=op.f("pk_performance_seats")),
        references("performance_seats", "performance_id", "performances"),
        references("performance_seats", "seat_id", "seats"),
        references("performance_seats", "category_id", "price_categories"),
        references("performance_seats", "order_id", "orders"),
        references("performance_seats", "ticket_id", "tickets"),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_performance_seats_ticket_id")),
        one_of("performance_seats", "state", ("free", "held", "sold", "blocked")),
        check(
            "performance_seats",
            "taken_by_an_order",
            "(state IN ('held', 'sold')) = (order_id IS NOT NULL)",
        ),
    )
    op.create_index("ix_performance_seats_order_id", "performance_seats", ["order_id"])


def downgrade() -> None:
    with op.batch_alter_table("performances") as batch:
        batch.drop_constraint(op.f("ck_performances_reserved_has_plan"), type_="check")
        batch.drop_constraint(op.f("ck_performances_seating_mode_valid"), type_="check")
        batch.drop_constraint(op.f("fk_performances_seat_plan_id_seat_plans"), type_="foreignkey")
        batch.drop_column("seat_plan_id")
        batch.drop_column("seating_mode")
    op.drop_table("performance_seats")  # and its index
    op.drop_table("seats")  # and its index
    op.drop_table("seat_plans")
    op.drop_table("halls")

"""Price categories per performance and a default set per show; tickets name their category.

Every existing performance gets one category, "Regulier"/"Regular", at its current price and
without a limit of its own; every existing ticket points at its performance's "Regulier"
(named in its buyer's language). No order's amounts change. Coupons may name the categories
they discount (NULL: all of them); a refund may name the tickets it refunds.
"""

import uuid

import sqlalchemy as sa
from alembic import op

from mierloos_adapters.migrations.shapes import (
    check,
    create_entity_table,
    json_document,
    one_of,
    references,
)

revision = "0009"
down_revision = "0008"


def _category_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("name_nl", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("seat_limit", sa.Integer(), nullable=True),
    ]


def _placing_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    ]


def _category_checks(table: str) -> list[sa.CheckConstraint]:
    return [
        one_of(table, "visibility", ("public", "staff")),
        check(table, "price_not_negative", "price_cents >= 0"),
    ]


def _create_tables() -> None:
    create_entity_table(
        "price_categories",
        *_category_columns(),
        sa.Column("performance_id", sa.Uuid(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=True),
        *_placing_columns(),
        *_category_checks("price_categories"),
        check(
            "price_categories",
            "seats_within_limit",
            "(available IS NULL AND seat_limit IS NULL)"
            " OR (available >= 0 AND available <= seat_limit)",
        ),
        references("price_categories", "performance_id", "performances"),
        indexes=[("performance_id",)],
    )
    create_entity_table(
        "show_price_categories",
        *_category_columns(),
        sa.Column("show_id", sa.Uuid(), nullable=False),
        *_placing_columns(),
        *_category_checks("show_price_categories"),
        check(
            "show_price_categories", "limit_not_negative", "seat_limit IS NULL OR seat_limit >= 0"
        ),
        references("show_price_categories", "show_id", "shows", ondelete="CASCADE"),
        indexes=[("show_id",)],
    )


def _regular_category_per_performance() -> None:
    performances = sa.table("performances", sa.column("id", sa.Uuid()), sa.column("price_cents"))
    categories = sa.table(
        "price_categories",
        sa.column("id", sa.Uuid()),
        sa.column("performance_id", sa.Uuid()),
        sa.column("name_nl"),
        sa.column("name_en"),
        sa.column("price_cents"),
        sa.column("visibility"),
        sa.column("position"),
    )
    rows = op.get_bind().execute(sa.select(performances.c.id, performances.c.price_cents))
    regular = [
        {
            "id": uuid.uuid4(),
            "performance_id": row.id,
            "name_nl": "Regulier",
            "name_en": "Regular",
            "price_cents": row.price_cents,
            "visibility": "public",
            "position": 0,
        }
        for row in rows
    ]
    if regular:
        op.bulk_insert(categories, regular)


def _tickets_in_regular() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("category_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("category_name", sa.String(length=100), nullable=True))
    tickets = sa.table(
        "tickets",
        sa.column("order_id", sa.Uuid()),
        sa.column("performance_id", sa.Uuid()),
        sa.column("category_id", sa.Uuid()),
        sa.column("category_name"),
    )
    categories = sa.table(
        "price_categories", sa.column("id", sa.Uuid()), sa.column("performance_id", sa.Uuid())
    )
    regular = (
        sa.select(categories.c.id)
        .where(categories.c.performance_id == tickets.c.performance_id)
        .scalar_subquery()
    )
    orders = sa.table("orders", sa.column("id", sa.Uuid()), sa.column("language"))
    english = (
        sa.select(orders.c.id)
        .where(orders.c.id == tickets.c.order_id, orders.c.language == "en")
        .exists()
    )
    # The name in the buyer's language, as checkout snapshots it from now on.
    name = sa.case((english, "Regular"), else_="Regulier")
    op.execute(tickets.update().values(category_id=regular, category_name=name))
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("category_id", existing_type=sa.Uuid(), nullable=False)
        batch.alter_column("category_name", existing_type=sa.String(length=100), nullable=False)
        batch.create_foreign_key(
            op.f("fk_tickets_category_id_price_categories"),
            "price_categories",
            ["category_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_tickets_category_id"), ["category_id"])


def upgrade() -> None:
    _create_tables()
    _regular_category_per_performance()
    _tickets_in_regular()
    with op.batch_alter_table("coupons") as batch:
        batch.add_column(sa.Column("category_names", json_document(), nullable=True))
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("ticket_ids", json_document(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("ticket_ids")
    with op.batch_alter_table("coupons") as batch:
        batch.drop_column("category_names")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(op.f("ix_tickets_category_id"))
        batch.drop_constraint(op.f("fk_tickets_category_id_price_categories"), type_="foreignkey")
        batch.drop_column("category_name")
        batch.drop_column("category_id")
    op.drop_index("ix_show_price_categories_show_id", table_name="show_price_categories")
    op.drop_table("show_price_categories")
    op.drop_index(op.f("ix_price_categories_performance_id"), table_name="price_categories")
    op.drop_table("price_categories")

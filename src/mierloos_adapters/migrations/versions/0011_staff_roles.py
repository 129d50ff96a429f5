"""Staff get roles: admin, kassa (counter, orders, door) and deur (door only).

Every existing staff account becomes admin, so nobody loses a right they had.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"

_users = sa.table("users", sa.column("role", sa.String))


def _allow(roles: str) -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role_valid"), type_="check")
        batch.create_check_constraint("role_valid", sa.text(f"role IN ({roles})"))


def upgrade() -> None:
    _allow("'visitor', 'staff', 'admin', 'kassa', 'deur'")
    op.execute(_users.update().where(_users.c.role == "staff").values(role="admin"))
    _allow("'visitor', 'admin', 'kassa', 'deur'")


def downgrade() -> None:
    _allow("'visitor', 'staff', 'admin', 'kassa', 'deur'")
    op.execute(_users.update().where(_users.c.role != "visitor").values(role="staff"))
    _allow("'visitor', 'staff'")

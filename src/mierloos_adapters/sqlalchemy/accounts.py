"""Staff and customer accounts, and their password reset tokens."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, enum_value
from mierloos_core.model.accounts import PasswordResetToken, Role, User, normalize_email

USER_ROWS = RowMap(User, t.users, role=enum_value(Role))
TOKEN_ROWS = RowMap(PasswordResetToken, t.password_reset_tokens)

_tokens = t.password_reset_tokens


class SqlUsers(SqlRepository):
    def add(self, user: User) -> None:
        try:
            with self.db.begin_nested():
                self._insert(USER_ROWS, user)
        except IntegrityError:
            raise ValueError("duplicate e-mail") from None

    def get(self, user_id: uuid.UUID) -> User | None:
        return self._find(USER_ROWS, t.users.c.id == user_id)

    def get_by_email(self, email: str) -> User | None:
        return self._find(USER_ROWS, t.users.c.email == normalize_email(email))

    def update(self, user: User) -> None:
        self._update(USER_ROWS, user)

    def with_roles(self, roles: Collection[Role]) -> list[User]:
        wanted = [role.value for role in roles]
        return self._find_all(
            USER_ROWS, t.users.c.role.in_(wanted), order_by=(t.users.c.name, t.users.c.email)
        )


class SqlResetTokens(SqlRepository):
    def add(self, token: PasswordResetToken) -> None:
        self._insert(TOKEN_ROWS, token)

    def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> PasswordResetToken | None:
        return self._find(TOKEN_ROWS, _tokens.c.token_hash == token_hash, for_update=for_update)

    def update(self, token: PasswordResetToken) -> None:
        self.db.execute(
            update(_tokens)
            .where(_tokens.c.id == token.id)
            .values(used_at=token.used_at, expires_at=token.expires_at)
        )

    def void_all(self, user_id: uuid.UUID, at: datetime) -> None:
        self.db.execute(
            update(_tokens)
            .where(_tokens.c.user_id == user_id, _tokens.c.used_at.is_(None))
            .values(used_at=at)
        )

    def count_since(self, user_id: uuid.UUID, since: datetime) -> int:
        count = self.db.execute(
            select(func.count())
            .select_from(_tokens)
            .where(_tokens.c.user_id == user_id, _tokens.c.created_at >= since)
        ).scalar_one()
        return int(count)

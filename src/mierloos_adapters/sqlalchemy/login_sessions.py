"""Login sessions in the `login_sessions` table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository
from mierloos_core.model.sessions import LoginSession

SESSION_ROWS = RowMap(LoginSession, t.login_sessions)

_rows = t.login_sessions


class SqlLoginSessions(SqlRepository):
    def add(self, session: LoginSession) -> None:
        self._insert(SESSION_ROWS, session)

    def get(self, id_hash: str) -> LoginSession | None:
        return self._find(SESSION_ROWS, _rows.c.id_hash == id_hash)

    def touch(self, id_hash: str, at: datetime) -> None:
        self.db.execute(update(_rows).where(_rows.c.id_hash == id_hash).values(last_seen_at=at))

    def delete(self, id_hash: str) -> None:
        self.db.execute(delete(_rows).where(_rows.c.id_hash == id_hash))

    def delete_for_user(self, user_id: uuid.UUID) -> int:
        return self.db.execute(delete(_rows).where(_rows.c.user_id == user_id)).rowcount

    def delete_idle(self, before: datetime) -> int:
        return self.db.execute(delete(_rows).where(_rows.c.last_seen_at < before)).rowcount

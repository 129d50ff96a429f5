"""Login sessions in the `login_sessions` table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.sessions import LoginSession

_rows = t.login_sessions


class SqlLoginSessions:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def add(self, session: LoginSession) -> None:
        self.db.execute(
            insert(_rows).values(
                id_hash=session.id_hash,
                user_id=session.user_id,
                staff=session.staff,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
            )
        )

    def get(self, id_hash: str) -> LoginSession | None:
        row = self.db.execute(select(_rows).where(_rows.c.id_hash == id_hash)).first()
        if row is None:
            return None
        return LoginSession(
            id_hash=row.id_hash,
            user_id=row.user_id,
            staff=row.staff,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )

    def touch(self, id_hash: str, at: datetime) -> None:
        self.db.execute(update(_rows).where(_rows.c.id_hash == id_hash).values(last_seen_at=at))

    def delete(self, id_hash: str) -> None:
        self.db.execute(delete(_rows).where(_rows.c.id_hash == id_hash))

    def delete_for_user(self, user_id: uuid.UUID) -> int:
        return self.db.execute(delete(_rows).where(_rows.c.user_id == user_id)).rowcount

    def delete_idle(self, before: datetime) -> int:
        return self.db.execute(delete(_rows).where(_rows.c.last_seen_at < before)).rowcount

"""Staff accounts and their roles: who may sell, who may scan, who may change everything.

Admins give an existing account a staff role or take it away. A change ends every session of
that account, so the new role applies from its next login. Nobody changes their own role,
which also means the theatre always keeps the admin who made the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs

from mierloos_core import errors
from mierloos_core.model.accounts import STAFF_ROLES, Role, User, normalize_email
from mierloos_core.ports import UnitOfWork


@attrs.define(eq=False)
class StaffAccounts:
    uow: Callable[[], UnitOfWork]

    def staff(self) -> list[User]:
        """Every account with a staff role, by name."""
        with self.uow() as uow:
            return uow.users.with_roles(STAFF_ROLES)

    def set_role(self, actor_id: uuid.UUID, email: str, role: Role) -> User:
        """Give the account at `email` `role` (Role.VISITOR takes staff rights away)."""
        with self.uow() as uow:
            user = uow.users.get_by_email(normalize_email(email))
            if user is None:
                raise errors.UnknownAccount()
            if user.id == actor_id:
                raise errors.OwnRoleUnchangeable()
            if user.role is not role:
                user.role = role
                uow.users.update(user)
                uow.sessions.delete_for_user(user.id)
                uow.commit()
            return user

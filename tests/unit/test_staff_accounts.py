"""Staff roles in the core: who may enter which area, and how admins change roles."""

from __future__ import annotations

import pytest

from mierloos_adapters.memory import MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.accounts import Role, StaffArea, User
from mierloos_core.model.sessions import LoginSession
from mierloos_core.services.staff_accounts import StaffAccounts


@pytest.fixture
def uow_factory(store, clock):
    return lambda: MemoryUnitOfWork(store, clock)


def a_user(uow_factory, clock, email: str, role: Role) -> User:
    user = User(
        email=email, name=email.split("@")[0], password_hash="h", created_at=clock.now(), role=role
    )
    with uow_factory() as uow:
        uow.users.add(user)
        uow.commit()
    return user


@pytest.mark.parametrize(
    ("role", "areas"),
    [
        (Role.VISITOR, set()),
        (Role.DOOR, {StaffArea.DOOR}),
        (Role.COUNTER, {StaffArea.DOOR, StaffArea.COUNTER, StaffArea.ORDERS}),
        (Role.ADMIN, set(StaffArea)),
    ],
)
def test_each_role_enters_its_areas_only(clock, role, areas):
    user = User(
        email="a@example.nl", name="A", password_hash="h", created_at=clock.now(), role=role
    )
    assert {area for area in StaffArea if user.may_enter(area)} == areas
    assert user.is_staff == (role is not Role.VISITOR)


def test_an_admin_gives_a_role_and_the_account_is_logged_out(uow_factory, clock):
    admin = a_user(uow_factory, clock, "baas@example.nl", Role.ADMIN)
    volunteer = a_user(uow_factory, clock, "vera@example.nl", Role.VISITOR)
    staff = StaffAccounts(uow_factory)
    with uow_factory() as uow:
        uow.sessions.add(
            LoginSession(
                id_hash="x" * 64,
                user_id=volunteer.id,
                staff=False,
                created_at=clock.now(),
                last_seen_at=clock.now(),
            )
        )
        uow.commit()

    changed = staff.set_role(admin.id, "VERA@example.nl", Role.DOOR)

    assert changed.role is Role.DOOR
    assert [u.email for u in staff.staff()] == ["baas@example.nl", "vera@example.nl"]
    with uow_factory() as uow:
        assert uow.sessions.get("x" * 64) is None


def test_nobody_changes_their_own_role(uow_factory, clock):
    admin = a_user(uow_factory, clock, "baas@example.nl", Role.ADMIN)
    with pytest.raises(errors.OwnRoleUnchangeable):
        StaffAccounts(uow_factory).set_role(admin.id, "baas@example.nl", Role.VISITOR)
    with uow_factory() as uow:
        assert uow.users.get(admin.id).role is Role.ADMIN


def test_an_unknown_address_is_refused(uow_factory, clock):
    admin = a_user(uow_factory, clock, "baas@example.nl", Role.ADMIN)
    with pytest.raises(errors.UnknownAccount):
        StaffAccounts(uow_factory).set_role(admin.id, "niemand@example.nl", Role.DOOR)

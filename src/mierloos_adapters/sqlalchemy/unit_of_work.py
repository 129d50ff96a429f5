"""The unit of work: one connection, one transaction, every repository on it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, NestedTransaction
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from mierloos_adapters.sqlalchemy.accounts import SqlResetTokens, SqlUsers
from mierloos_adapters.sqlalchemy.catalog import SqlPerformances, SqlSeatInventory, SqlShows
from mierloos_adapters.sqlalchemy.coupons import SqlCoupons
from mierloos_adapters.sqlalchemy.door import SqlAdmissions, SqlDeviceTokens
from mierloos_adapters.sqlalchemy.images import SqlImages
from mierloos_adapters.sqlalchemy.jobs import SqlJobQueue
from mierloos_adapters.sqlalchemy.login_sessions import SqlLoginSessions
from mierloos_adapters.sqlalchemy.orders import SqlOrders
from mierloos_adapters.sqlalchemy.payments import SqlPayments, SqlRefunds
from mierloos_adapters.sqlalchemy.price_categories import SqlPriceCategories
from mierloos_adapters.sqlalchemy.seating import SqlSeating
from mierloos_adapters.sqlalchemy.waitlists import SqlWaitlists
from mierloos_core.errors import Busy
from mierloos_core.ports import Clock

# Postgres SQLSTATEs that mean "someone else holds what you need": lock_not_available,
# deadlock_detected, serialization_failure.
_CONTENTION_CODES = {"55P03", "40P01", "40001"}
# unique_violation, check_violation: the services check these rules first, so when the
# database still refuses, a concurrent change got there between the check and the write.
# Trying again meets the service's own check and its clear message.
_RACE_CODES = {"23505", "23514"}
_SQLITE_RACES = ("UNIQUE constraint failed", "CHECK constraint failed")


def is_contention(error: BaseException) -> bool:
    if not isinstance(error, DBAPIError):
        return False
    code = getattr(error.orig, "sqlstate", None)
    if code in _CONTENTION_CODES:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


def is_lost_race(error: BaseException) -> bool:
    if not isinstance(error, IntegrityError):
        return False
    code = getattr(error.orig, "sqlstate", None)
    return code in _RACE_CODES or any(text in str(error.orig) for text in _SQLITE_RACES)


class SqlUnitOfWork:
    """Repositories on one connection of `engine`, in a transaction of their own.

    `SqlUnitOfWork.within(connection, clock)` joins a transaction the caller already has open
    instead: the services' work runs in a savepoint, `commit()` releases it and an error rolls
    back to it, and the caller's own commit or rollback decides for everything.
    """

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._connection: Connection | None = None
        self._outer: Connection | None = None
        self._savepoint: NestedTransaction | None = None

    @classmethod
    def within(cls, connection: Connection, clock: Clock) -> SqlUnitOfWork:
        uow = cls(connection.engine, clock)
        uow._outer = connection
        return uow

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("the unit of work is already open")
        if self._outer is not None:
            connection = self._outer
            self._savepoint = connection.begin_nested()
        else:
            connection = self.engine.connect()
        self._connection = connection
        self.shows = SqlShows(connection)
        self.performances = SqlPerformances(connection)
        self.price_categories = SqlPriceCategories(connection)
        self.seats = SqlSeatInventory(connection)
        self.coupons = SqlCoupons(connection)
        self.orders = SqlOrders(connection)
        self.payments = SqlPayments(connection)
        self.refunds = SqlRefunds(connection)
        self.users = SqlUsers(connection)
        self.reset_tokens = SqlResetTokens(connection)
        self.sessions = SqlLoginSessions(connection)
        self.images = SqlImages(connection)
        self.admissions = SqlAdmissions(connection)
        self.devices = SqlDeviceTokens(connection)
        self.waitlists = SqlWaitlists(connection)
        self.seating = SqlSeating(connection)
        self.jobs = SqlJobQueue(connection, self.clock)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._savepoint is not None:
            savepoint, self._savepoint = self._savepoint, None
            if savepoint.is_active:
                savepoint.rollback()
        else:
            try:
                connection.rollback()
            finally:
                connection.close()
        if exc is not None and (is_contention(exc) or is_lost_race(exc)):
            raise Busy() from exc

    def commit(self) -> None:
        try:
            if self._savepoint is not None:
                self._savepoint.commit()
                self._savepoint = self.connection.begin_nested()
            else:
                self.connection.commit()
        except DBAPIError as error:
            if is_contention(error) or is_lost_race(error):
                raise Busy() from error
            raise

    def rollback(self) -> None:
        if self._savepoint is not None:
            self._savepoint.rollback()
            self._savepoint = self.connection.begin_nested()
        else:
            self.connection.rollback()

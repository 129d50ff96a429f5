"""Orders with their tickets, the staff's order search, and the unpaid-ticket counts."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, cents, enum_value, locked
from mierloos_core.model.money import Money
from mierloos_core.model.orders import (
    Order,
    OrderStatus,
    PaymentMethod,
    SalesChannel,
    Ticket,
    TicketsPdf,
    TicketStatus,
)
from mierloos_core.ports import OrderSearch, OrderSearchPage, OrderSummary, SalesTotal

TICKET_ROWS = RowMap(Ticket, t.tickets, price=cents("price_cents"), status=enum_value(TicketStatus))
ORDER_ROWS = RowMap(
    Order,
    t.orders,
    separate=["tickets_pdf", "tickets"],
    status=enum_value(OrderStatus),
    sales_channel=enum_value(SalesChannel),
    payment_method=enum_value(PaymentMethod),
    subtotal=cents("subtotal_cents"),
    discount=cents("discount_cents"),
)
SUMMARY_ROWS = RowMap(OrderSummary, t.orders, separate=["total"], status=enum_value(OrderStatus))

# Statements on the checkout path are built once: building them per call costs more Python
# time than the round trip to the database.
_INSERT_ORDER = insert(t.orders)
# The columns a new ticket writes (the door's admission columns start empty).
_TICKET_COLUMNS = ["position", *TICKET_ROWS.stored_columns]


@functools.cache
def _insert_tickets(count: int) -> Any:
    """INSERT of `count` tickets in one statement, built once per count (and compiled once:
    SQLAlchemy caches a SELECT of parameters, never a multi-row VALUES): the parameters of
    ticket n are its columns suffixed `_n`."""
    rows = [
        select(
            *(
                bindparam(f"{column}_{n}", type_=t.tickets.c[column].type)
                for column in _TICKET_COLUMNS
            )
        )
        for n in range(1, count + 1)
    ]
    return insert(t.tickets).from_select(
        _TICKET_COLUMNS, union_all(*rows) if count > 1 else rows[0]
    )


@functools.cache
def _update_order(columns: tuple[str, ...]) -> Any:
    """UPDATE of an order's `columns`, built once per column set: SQLAlchemy then finds its
    compiled form by a cheap key instead of walking a VALUES of literals on every call (a
    fifth of opening a payment at checkout). Parameters: `new_<column>` and `order_id`."""
    values = {c: bindparam(f"new_{c}", type_=t.orders.c[c].type) for c in columns}
    return update(t.orders).where(t.orders.c.id == bindparam("order_id")).values(values)


_TICKET_STATUS = (
    update(t.tickets)
    .where(t.tickets.c.id == bindparam("ticket_id"))
    .values(status=bindparam("new_status"))
)


def _tickets_pdf(row: Row[Any]) -> TicketsPdf | None:
    if not row.tickets_pdf_key:
        return None
    return TicketsPdf(
        key=row.tickets_pdf_key,
        pages=row.tickets_pdf_pages,
        size=row.tickets_pdf_size,
        created_at=row.tickets_pdf_created_at,
    )


def _tickets_pdf_values(pdf: TicketsPdf | None) -> dict[str, Any]:
    return {
        "tickets_pdf_key": pdf.key if pdf else None,
        "tickets_pdf_pages": pdf.pages if pdf else None,
        "tickets_pdf_size": pdf.size if pdf else None,
        "tickets_pdf_created_at": pdf.created_at if pdf else None,
    }


def _row(order: Order) -> dict[str, Any]:
    return {"id": order.id, "number": order.number, "secret": order.secret, **_state(order)}


def _state(order: Order) -> dict[str, Any]:
    """The columns an order's life changes: all but its id, number and secret."""
    values = ORDER_ROWS.values(order, without=["id", "number", "secret"])
    return values | _tickets_pdf_values(order.tickets_pdf)


class SqlOrders(SqlRepository):
    def unpaid_tickets(
        self, performance_id: uuid.UUID, *, email: str, client_address: str | None
    ) -> tuple[int, int]:
        # Two counts, each led by an index on orders (email, client address): checkout runs
        # this while it holds the performance row, so it must not grow with the sales.
        query = _UNPAID_BY_EMAIL_AND_CLIENT if client_address else _UNPAID_BY_EMAIL
        params = {"performance_id": performance_id, "email": email, "client": client_address}
        row = self.db.execute(query, params).one()
        return int(row[0]), int(row[1])

    def add(self, order: Order) -> None:
        self.db.execute(_INSERT_ORDER, _row(order))
        self._add_tickets(order)

    def add_once(self, order: Order) -> bool:
        if order.request_key is None:
            self.add(order)
            return True
        insert_once = postgresql.insert if self.db.dialect.name == "postgresql" else sqlite.insert
        added = self.db.execute(
            insert_once(t.orders)
            .values(_row(order))
            .on_conflict_do_nothing(index_elements=["request_key"])
            .returning(t.orders.c.id)
        ).first()
        if added is None:
            return False
        self._add_tickets(order)
        return True

    def _add_tickets(self, order: Order) -> None:
        if order.tickets:
            # One INSERT of many rows: one statement for the server, where executemany sends
            # one per ticket.
            params: dict[str, Any] = {}
            for position, ticket in enumerate(order.tickets, start=1):
                values = TICKET_ROWS.values(ticket) | {"order_id": order.id, "position": position}
                params.update((f"{column}_{position}", value) for column, value in values.items())
            self.db.execute(_insert_tickets(len(order.tickets)), params)

    def get(self, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
        return self._load(locked(select(t.orders).where(t.orders.c.id == order_id), for_update))

    def get_by_secret(self, secret: str) -> Order | None:
        return self._load(select(t.orders).where(t.orders.c.secret == secret))

    def get_by_number(self, number: str) -> Order | None:
        return self._load(select(t.orders).where(t.orders.c.number == number))

    def get_by_request_key(self, request_key: str) -> Order | None:
        return self._load(select(t.orders).where(t.orders.c.request_key == request_key))

    def update(self, order: Order) -> None:
        state = _state(order)
        params = {f"new_{column}": value for column, value in state.items()}
        self.db.execute(_update_order(tuple(state)), {**params, "order_id": order.id})
        if order.tickets:
            self.db.execute(
                _TICKET_STATUS,
                [{"ticket_id": tk.id, "new_status": tk.status.value} for tk in order.tickets],
            )

    def overdue(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = self.db.execute(
            select(t.orders.c.id)
            .where(t.orders.c.status == OrderStatus.PENDING.value, t.orders.c.expires_at <= now)
            .order_by(t.orders.c.expires_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    def seats_held(self, performance_id: uuid.UUID) -> int:
        held = [TicketStatus.RESERVED.value, TicketStatus.VALID.value]
        count = self.db.execute(
            select(func.count())
            .select_from(t.tickets)
            .where(t.tickets.c.performance_id == performance_id, t.tickets.c.status.in_(held))
        ).scalar_one()
        return int(count)

    def for_user(self, user_id: uuid.UUID, *, limit: int) -> list[Order]:
        ids = self.db.execute(
            select(t.orders.c.id)
            .where(t.orders.c.user_id == user_id)
            .order_by(t.orders.c.created_at.desc(), t.orders.c.number.desc())
            .limit(limit)
        ).scalars()
        return self._load_each(list(ids))

    def search(self, query: OrderSearch) -> OrderSearchPage:
        if query.page < 1 or query.per_page < 1:
            raise ValueError("pages count from 1 and hold at least one order")
        conditions = _search_conditions(query)
        total = self.db.execute(
            select(func.count()).select_from(t.orders).where(*conditions)
        ).scalar_one()
        orders = t.orders.c
        rows = self.db.execute(
            select(
                orders.id,
                orders.number,
                orders.email,
                orders.name,
                orders.status,
                orders.subtotal_cents,
                orders.discount_cents,
                orders.created_at,
                orders.needs_attention,
            )
            .where(*conditions)
            .order_by(orders.created_at.desc(), orders.id.desc())
            .limit(query.per_page)
            .offset((query.page - 1) * query.per_page)
        )
        return OrderSearchPage(
            orders=tuple(
                SUMMARY_ROWS.load(row, total=Money(row.subtotal_cents - row.discount_cents))
                for row in rows
            ),
            total=int(total),
            page=query.page,
            per_page=query.per_page,
        )

    def ids_for_performance(
        self, performance_id: uuid.UUID, statuses: Collection[OrderStatus]
    ) -> list[uuid.UUID]:
        if not statuses:
            return []
        rows = self.db.execute(
            select(t.orders.c.id)
            .where(
                t.orders.c.status.in_([status.value for status in statuses]),
                t.orders.c.id.in_(
                    select(t.tickets.c.order_id).where(t.tickets.c.performance_id == performance_id)
                ),
            )
            .order_by(t.orders.c.created_at)
        )
        return [row.id for row in rows]

    def sales_totals(self, start: datetime, end: datetime) -> list[SalesTotal]:
        orders = t.orders.c
        per_order = (
            select(t.tickets.c.order_id, func.count().label("tickets"))
            .group_by(t.tickets.c.order_id)
            .subquery()
        )
        rows = self.db.execute(
            select(
                orders.sold_by,
                t.users.c.name,
                orders.payment_method,
                func.count().label("orders"),
                func.coalesce(func.sum(per_order.c.tickets), 0).label("tickets"),
                func.sum(orders.subtotal_cents - orders.discount_cents).label("amount"),
            )
            .select_from(
                t.orders.outerjoin(per_order, per_order.c.order_id == orders.id).outerjoin(
                    t.users, t.users.c.id == orders.sold_by
                )
            )
            .where(
                orders.status.in_([OrderStatus.PAID.value, OrderStatus.REFUNDED.value]),
                orders.paid_at >= start,
                orders.paid_at < end,
            )
            .group_by(orders.sold_by, t.users.c.name, orders.payment_method)
        )
        totals = [
            SalesTotal(
                sold_by=row.sold_by,
                staff_name=row.name,
                payment_method=PaymentMethod(row.payment_method),
                orders=int(row.orders),
                tickets=int(row.tickets),
                amount=Money(int(row.amount)),
            )
            for row in rows
        ]
        return sorted(totals, key=SalesTotal.sort_key)

    def open_phone_bookings(self, now: datetime, limit: int) -> list[Order]:
        orders = t.orders.c
        ids = self.db.execute(
            select(orders.id)
            .where(
                orders.sales_channel == SalesChannel.PHONE.value,
                orders.status == OrderStatus.PENDING.value,
                orders.expires_at > now,
            )
            .order_by(orders.expires_at, orders.number)
            .limit(limit)
        ).scalars()
        return self._load_each(list(ids))

    def _load_each(self, ids: list[uuid.UUID]) -> list[Order]:
        found = [self.get(order_id) for order_id in ids]
        return [order for order in found if order is not None]

    def _load(self, query: Any) -> Order | None:
        row = self.db.execute(query).first()
        if row is None:
            return None
        tickets = t.tickets.c
        in_order = tickets.order_id == row.id
        return ORDER_ROWS.load(
            row,
            tickets_pdf=_tickets_pdf(row),
            tickets=self._find_all(TICKET_ROWS, in_order, order_by=[tickets.position]),
        )


def _search_conditions(query: OrderSearch) -> list[Any]:
    orders = t.orders.c
    conditions: list[Any] = []
    if query.status is not None:
        conditions.append(orders.status == query.status.value)
    if query.needs_attention:
        conditions.append(func.coalesce(orders.needs_attention, "") != "")
    text = query.text.strip().lower()
    if text:
        # icontains with autoescape: % and _ typed by staff match only themselves.
        conditions.append(
            or_(
                func.lower(orders.number) == text,
                orders.email.icontains(text, autoescape=True),
                orders.name.icontains(text, autoescape=True),
                orders.phone.icontains(text, autoescape=True),
            )
        )
    return conditions


def _unpaid_tickets(buyer: ColumnElement[bool]) -> Any:
    """How many tickets of the performance the pending orders matching `buyer` hold."""
    return (
        select(func.count())
        .select_from(t.orders.join(t.tickets, t.tickets.c.order_id == t.orders.c.id))
        .where(
            buyer,
            t.orders.c.status == "pending",
            t.tickets.c.performance_id == bindparam("performance_id"),
        )
        .scalar_subquery()
    )


# Built once: checkout runs them.
_UNPAID_BY_EMAIL = select(_unpaid_tickets(t.orders.c.email == bindparam("email")), literal(0))
_UNPAID_BY_EMAIL_AND_CLIENT = select(
    _unpaid_tickets(t.orders.c.email == bindparam("email")),
    _unpaid_tickets(t.orders.c.client_address == bindparam("client")),
)

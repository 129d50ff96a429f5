"""The counter (kassa): sales paid there and then, phone bookings, and the day's takings.

A counter sale takes its seats exactly as a web checkout does: one transaction inserts the
order and then takes the seats through `order_lifecycle.hold` (performances by id, then price
categories by id, with the same conditional updates), so the counter and the web shop never
sell one seat twice. It is paid at once (cash, pin, or free with a reason): its tickets are
valid in that same transaction, and the PDF job is queued with it; the buyer is mailed only
when staff typed an e-mail address.

What staff may sell that visitors may not: staff-only price categories, bigger groups
(`CounterPolicy.max_tickets_per_line`), and a performance until `sells_after_start` past its
start (latecomers at the door). Draft, cancelled and archived performances never.

A phone booking is an unpaid order (channel "telefoon", method "aan_de_kassa") holding its
seats until `pay_before`: the performance's start minus `CounterPolicy.phone_hold_until`. That
is its expiry, so the existing ExpireOrders job gives the seats back after it, once. Staff
"mark as paid" (cash, pin or a bank transfer) under the order's lock, so it and the expiry have
one winner; a booking past its deadline, expired or cancelled is refused and never revived.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from mierloos_core import errors
from mierloos_core.model.cart import CartLine, CartValidation, merge_lines
from mierloos_core.model.catalog import Performance, Show
from mierloos_core.model.money import Money
from mierloos_core.model.orders import (
    Order,
    OrderStatus,
    PaymentMethod,
    SalesChannel,
    supported_language,
)
from mierloos_core.model.price_categories import PriceCategory, in_order
from mierloos_core.ports import SalesTotal, UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.cart import check_quantities, validate_lines
from mierloos_core.services.checkout import clean_email, clean_name, refusal, tickets_for
from mierloos_core.services.fulfilment import enqueue_fulfilment, mail_buyer
from mierloos_core.services.order_lifecycle import close_order, hold, lock_order, settle_paid
from mierloos_core.services.seat_holds import SeatRequest, chosen_seat_lines

SALE_METHODS = (PaymentMethod.CASH, PaymentMethod.PIN, PaymentMethod.FREE)
MARK_PAID_METHODS = (PaymentMethod.CASH, PaymentMethod.PIN, PaymentMethod.TRANSFER)
MAX_REASON_LENGTH = 200
_REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
_PHONE = re.compile(r"\+?[0-9 ()-]{6,25}")


class BookingExpired(errors.InvalidTransition):
    code = "booking_expired"
    message = (
        "Deze reservering is verlopen of geannuleerd: de plaatsen zijn weer vrij. "
        "Verkoop de kaarten opnieuw als er nog plaats is."
    )


class NotAPhoneBooking(errors.InvalidTransition):
    code = "not_a_phone_booking"
    message = "Alleen telefonische reserveringen worden aan de kassa als betaald gemarkeerd."


class TooLateForPhoneBooking(errors.ValidationError):
    code = "too_late_for_phone_booking"
    message = "Het is te kort voor de voorstelling om nog te reserveren: verkoop aan de kassa."


@attrs.frozen(kw_only=True)
class CounterPolicy:
    max_tickets_per_line: int = 50
    max_lines: int = 20
    # Staff may still sell this long after a performance began (latecomers).
    sells_after_start: timedelta = timedelta(minutes=30)
    # A phone booking's seats go back this long before the start unless it was paid.
    phone_hold_until: timedelta = timedelta(minutes=30)


@attrs.frozen(kw_only=True)
class CounterSale:
    lines: Sequence[CartLine]
    method: PaymentMethod
    staff_id: uuid.UUID
    free_reason: str = ""
    name: str = ""  # optional: printed on the tickets
    email: str = ""  # optional: the tickets are mailed to it
    language: str = "nl"
    request_key: str | None = None  # the form's: sent twice, it sells once
    # Reserved seating: seats picked on the map, per performance (the rest: best available).
    seats: Mapping[uuid.UUID, tuple[uuid.UUID, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PhoneBooking:
    lines: Sequence[CartLine]
    staff_id: uuid.UUID
    name: str
    email: str = ""  # an e-mail address or a phone number (or both) is required
    phone: str = ""
    language: str = "nl"
    request_key: str | None = None  # the form's: sent twice, it books once
    seats: Mapping[uuid.UUID, tuple[uuid.UUID, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class CounterOrder:
    """What the counter did: the order as it now is."""

    order_id: uuid.UUID
    number: str
    status: OrderStatus
    payment_method: PaymentMethod
    total: Money
    tickets: int
    pay_before: datetime | None
    emailed: bool  # its tickets go to the buyer by e-mail

    @classmethod
    def of(cls, order: Order) -> CounterOrder:
        same = ("number", "status", "payment_method", "total", "pay_before")
        copied = {name: getattr(order, name) for name in same}
        return cls(
            order_id=order.id, tickets=len(order.tickets), emailed=bool(order.email), **copied
        )


@attrs.frozen(kw_only=True)
class CounterPerformance:
    """A performance the counter can sell now, with every price category (staff-only too)."""

    performance: Performance
    show: Show
    categories: tuple[PriceCategory, ...]


@attrs.frozen(kw_only=True)
class DayOverview:
    start: datetime
    end: datetime
    rows: tuple[SalesTotal, ...]

    @property
    def orders(self) -> int:
        return sum(row.orders for row in self.rows)

    @property
    def tickets(self) -> int:
        return sum(row.tickets for row in self.rows)

    @property
    def amount(self) -> Money:
        return sum((row.amount for row in self.rows), Money.zero())

    def per_method(self) -> list[tuple[PaymentMethod, int, int, Money]]:
        """(method, orders, tickets, amount) per payment method, in the methods' order."""
        totals = []
        for method in PaymentMethod:
            rows = [row for row in self.rows if row.payment_method is method]
            if rows:
                amount = sum((row.amount for row in rows), Money.zero())
                totals.append(
                    (method, sum(r.orders for r in rows), sum(r.tickets for r in rows), amount)
                )
        return totals


def clean_phone(phone: str) -> str:
    phone = " ".join(phone.split())
    if not _PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 6:
        problem = "Vul een geldig telefoonnummer in."
        raise errors.ValidationError(problem, fields={"phone": problem})
    return phone


def clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON_LENGTH or any(ord(c) < 32 for c in reason):
        problem = f"Geef een reden (hoogstens {MAX_REASON_LENGTH} tekens) voor gratis kaarten."
        raise errors.ValidationError(problem, fields={"free_reason": problem})
    return reason


def _request_key(key: str | None) -> str | None:
    if key is not None and not _REQUEST_KEY.fullmatch(key):
        raise errors.ValidationError("Dit formulier is ongeldig. Laad de pagina opnieuw.")
    return key


def _new_order(now: datetime, language: str, key: str | None, **fields: Any) -> Order:
    """A counter order made now: nothing discounted, in the buyer's language."""
    return Order(
        discount=Money.zero(),
        language=supported_language(language),
        created_at=now,
        request_key=key,
        **fields,
    )


def _earlier(uow: UnitOfWork, key: str | None) -> CounterOrder | None:
    earlier = uow.orders.get_by_request_key(key) if key is not None else None
    return CounterOrder.of(earlier) if earlier is not None else None


def _method(method: PaymentMethod, allowed: Sequence[PaymentMethod]) -> PaymentMethod:
    if method not in allowed:
        problem = "Kies " + ", ".join(m.value for m in allowed) + "."
        raise errors.ValidationError(problem, fields={"method": problem})
    return method


@attrs.define(eq=False)
class Counter(Service):
    policy: CounterPolicy = CounterPolicy()

    def sell(self, sale: CounterSale) -> CounterOrder:
        """Sell and take payment at once: a paid order with valid tickets, or a domain error
        and nothing changed (NotEnoughSeats/PriceCategorySoldOut when the seats are gone)."""
        method = _method(sale.method, SALE_METHODS)
        free = method is PaymentMethod.FREE
        reason = clean_reason(sale.free_reason) if free else None
        email = clean_email(sale.email) if sale.email.strip() else ""
        name = clean_name(sale.name) if sale.name.strip() else ""
        key = _request_key(sale.request_key)

        def paid_order(validation: CartValidation, now: datetime) -> Order:
            order = _new_order(
                now,
                sale.language,
                key,
                email=email,
                name=name,
                subtotal=Money.zero(),
                expires_at=now,
                sales_channel=SalesChannel.COUNTER,
                payment_method=method,
                sold_by=sale.staff_id,
                free_reason=reason,
            )
            order.tickets = tickets_for(order, validation, free=free)
            order.subtotal = sum((t.price for t in order.tickets), Money.zero())
            order.mark_paid(now)
            return order

        lines = self._lines(sale.lines, sale.seats)
        return self._place(lines, key, self.policy.sells_after_start, paid_order, sale.seats)

    def reserve(self, booking: PhoneBooking) -> CounterOrder:
        """A phone booking: an unpaid order holding its seats until `pay_before`."""
        name = clean_name(booking.name)
        email = clean_email(booking.email) if booking.email.strip() else ""
        phone = clean_phone(booking.phone) if booking.phone.strip() else None
        if not email and phone is None:
            problem = "Vul een e-mailadres of een telefoonnummer in."
            raise errors.ValidationError(problem, fields={"phone": problem})
        key = _request_key(booking.request_key)

        def booked_order(validation: CartValidation, now: datetime) -> Order:
            first = min(v.performance.starts_at for v in validation.valid)
            pay_before = first - self.policy.phone_hold_until
            if pay_before <= now:
                raise TooLateForPhoneBooking()
            order = _new_order(
                now,
                booking.language,
                key,
                email=email,
                name=name,
                phone=phone,
                subtotal=validation.subtotal,
                expires_at=pay_before,
                pay_before=pay_before,
                sales_channel=SalesChannel.PHONE,
                payment_method=PaymentMethod.AT_COUNTER,
                sold_by=booking.staff_id,
            )
            order.tickets = tickets_for(order, validation)
            return order

        lines = self._lines(booking.lines, booking.seats)
        return self._place(lines, key, timedelta(0), booked_order, booking.seats)

    def _place(
        self,
        lines: list[CartLine],
        key: str | None,
        after_start: timedelta,
        make: Callable[[CartValidation, datetime], Order],
        seats: Mapping[uuid.UUID, tuple[uuid.UUID, ...]],
    ) -> CounterOrder:
        """One transaction: the order `make` builds from the validated lines goes in first,
        then its seats are taken (`hold`, the shop's lock order); a paid one gets its PDF job
        and mail. The same `key` twice gives the first order back."""
        now = self.clock.now()
        with self.uow() as uow:
            if (earlier := _earlier(uow, key)) is not None:
                return earlier  # the same form again: what it made the first time
            if seats:  # each chosen seat is a ticket of its zone's category
                chosen = chosen_seat_lines(uow, seats, self.policy.max_tickets_per_line)
                lines = merge_lines([*lines, *chosen])
                check_quantities(lines, self.policy.max_tickets_per_line)
            validation = self._validate(uow, now, lines, after_start=after_start)
            order = make(validation, now)
            if not uow.orders.add_once(order):
                return self._made_meanwhile(uow, key)
            if order.status is OrderStatus.PAID:
                enqueue_fulfilment(uow, order)  # the PDF job always; mail only with an address
            else:  # a phone booking: what is held and until when, when there is an address
                mail_buyer(uow, order, "phone_booking", once_key=str(order.id))
            # Staff seat whoever comes: the wheelchair companion rule is theirs to apply.
            request = SeatRequest(
                chosen=seats, maximum=self.policy.max_tickets_per_line, companion_rule=False
            )
            hold(uow, order, None, request)
            uow.commit()
        return CounterOrder.of(order)

    def mark_paid(
        self, order_id: uuid.UUID, method: PaymentMethod, staff_id: uuid.UUID
    ) -> CounterOrder:
        """A phone booking paid at the counter or by transfer: paid, tickets made and mailed.

        The order's row lock decides between this and its expiry. Marking it twice changes
        nothing the second time. A booking past its deadline is closed now (if the expiry job
        has not yet) and refused with BookingExpired, as is an expired or cancelled one.
        """
        method = _method(method, MARK_PAID_METHODS)
        now = self.clock.now()
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            if order.sales_channel is not SalesChannel.PHONE:
                raise NotAPhoneBooking(order_id=str(order_id))
            if order.status is OrderStatus.PAID:
                return CounterOrder.of(order)  # a double click: paid once
            if order.status is OrderStatus.PENDING and order.is_overdue(now):
                close_order(uow, order, OrderStatus.EXPIRED, now)
                uow.commit()
            if order.status is not OrderStatus.PENDING:
                raise BookingExpired(order_id=str(order_id), status=order.status.value)
            order.sold_by = staff_id  # who took the money: the day-end overview counts it
            settle_paid(uow, order, now, method)
            uow.commit()
        return CounterOrder.of(order)

    def for_sale(self, limit: int = 100) -> list[CounterPerformance]:
        """Published performances the counter can sell now, soonest first."""
        now = self.clock.now()
        with self.uow() as uow:
            found = uow.performances.upcoming(now - self.policy.sells_after_start)[:limit]
            categories = uow.price_categories.for_performances([p.id for p in found])
            shows = {show_id: uow.shows.get(show_id) for show_id in {p.show_id for p in found}}
        return [
            CounterPerformance(
                performance=performance,
                show=show,
                categories=tuple(in_order(categories.get(performance.id, []))),
            )
            for performance in found
            if (show := shows.get(performance.show_id)) is not None
        ]

    def open_bookings(self, limit: int = 100) -> list[Order]:
        """Phone bookings still waiting for payment, soonest deadline first."""
        with self.uow() as uow:
            return uow.orders.open_phone_bookings(self.clock.now(), limit)

    def day_overview(self, start: datetime, end: datetime) -> DayOverview:
        """What was paid from `start` until `end` (a local day, as the caller says), per staff
        member and payment method."""
        if end <= start:
            raise ValueError("a day ends after it starts")
        with self.uow() as uow:
            rows = uow.orders.sales_totals(start, end)
        return DayOverview(start=start, end=end, rows=tuple(rows))

    @staticmethod
    def _made_meanwhile(uow: UnitOfWork, key: str | None) -> CounterOrder:
        """The same form sent at the same moment twice: the other request made the order."""
        made = _earlier(uow, key)
        assert made is not None, "add_once refuses only a key that is taken"
        return made

    def _lines(
        self, lines: Sequence[CartLine], seats: Mapping[uuid.UUID, tuple[uuid.UUID, ...]]
    ) -> list[CartLine]:
        merged = merge_lines(lines)
        if not merged and not any(seats.values()):
            raise errors.EmptyCart("Kies ten minste één kaart.")
        if len(merged) > self.policy.max_lines:
            raise errors.TooManyLines(maximum=self.policy.max_lines)
        check_quantities(merged, self.policy.max_tickets_per_line)
        return merged

    @staticmethod
    def _validate(
        uow: UnitOfWork, now: datetime, lines: list[CartLine], *, after_start: timedelta
    ) -> CartValidation:
        validation = validate_lines(uow, now, lines, staff=True, after_start=after_start)
        if validation.unavailable:
            raise refusal(validation.unavailable[0])
        return validation

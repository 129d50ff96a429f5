"""Checkout: turn a cart into a pending order holding its seats, in one transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from mierloos_core import errors
from mierloos_core.model.cart import CartLine, CartValidation, UnavailableLine, merge_lines
from mierloos_core.model.catalog import UnavailableReason
from mierloos_core.model.commands import CreatePayment
from mierloos_core.model.coupons import Coupon
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, Ticket, supported_language
from mierloos_core.model.records import copied
from mierloos_core.ports import Clock, UnitOfWork
from mierloos_core.services.cart import MAX_TICKETS_PER_LINE, check_quantities, validate_lines
from mierloos_core.services.fulfilment import enqueue_fulfilment
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.order_lifecycle import hold
from mierloos_core.services.seat_holds import SeatRequest, chosen_seat_lines

# Deliberately simple: one @, a dot in the domain, no spaces or control characters. The
# confirmation e-mail is the real test of an address.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200


def clean_email(email: str) -> str:
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise errors.InvalidEmail()
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise errors.InvalidName()
    return name


@attrs.frozen(kw_only=True)
class CheckoutPolicy:
    max_tickets_per_line: int = MAX_TICKETS_PER_LINE
    max_lines: int = 20
    # How long an unpaid order holds its seats before the cleanup gives them back.
    order_ttl: timedelta = timedelta(minutes=15)
    # The payment_creation job waits this long for the web request's own attempt to open the
    # payment; it exists so a sale survives a crash or a provider outage right after commit.
    payment_grace: timedelta = timedelta(seconds=30)
    # Unpaid tickets one e-mail address, and one client address, may hold per performance
    # (0: no cap): without it one client can hold a whole performance with a few orders.
    max_unpaid_per_performance: int = 10
    # Reserved seating: a wheelchair companion seat only with its wheelchair place beside it.
    companion_rule: bool = True


@attrs.frozen(kw_only=True)
class CheckoutRequest:
    email: str
    name: str
    lines: Sequence[CartLine]
    coupon_code: str | None = None
    user_id: uuid.UUID | None = None
    newsletter: bool = False
    language: str = "nl"  # the buyer's; later e-mails and the tickets use it
    client_address: str | None = None
    # Reserved seating: the seat ids chosen on the map, per performance. The tickets of a
    # reserved performance that no chosen seat covers get the best available seats.
    seats: Mapping[uuid.UUID, tuple[uuid.UUID, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PlacedOrder:
    order_id: uuid.UUID
    number: str
    secret: str = attrs.field(repr=False)
    subtotal: Money
    discount: Money
    total: Money
    expires_at: datetime
    status: OrderStatus = OrderStatus.PENDING  # PAID when a coupon covered it all


def checkout(
    uow: UnitOfWork,
    clock: Clock,
    request: CheckoutRequest,
    policy: CheckoutPolicy = CheckoutPolicy(),
) -> PlacedOrder:
    """Place a pending order for the cart, or raise a domain error and change nothing.

    All lines must be sellable: a line that is not fails the whole checkout, so the visitor
    sees the cart again rather than paying for less than they chose.
    """
    email = clean_email(request.email)
    name = clean_name(request.name)
    lines = merge_lines(request.lines)
    if not lines and not any(request.seats.values()):
        raise errors.EmptyCart()
    if len(lines) > policy.max_lines:
        raise errors.TooManyLines(maximum=policy.max_lines)
    check_quantities(lines, policy.max_tickets_per_line)
    coupon_code = (request.coupon_code or "").strip() or None

    now = clock.now()
    with uow:
        if request.seats:
            chosen = chosen_seat_lines(uow, request.seats, policy.max_tickets_per_line)
            lines = merge_lines([*lines, *chosen])
            check_quantities(lines, policy.max_tickets_per_line)
        validation = validate_lines(uow, now, lines)
        if validation.unavailable:
            raise refusal(validation.unavailable[0])
        coupon = _coupon(uow, coupon_code, now, validation)
        order = _new_order(request, email, name, validation, coupon, now, policy)
        # Inserts first, the contended updates last: the rows everyone wants (coupon,
        # performances) stay locked only from their update to the commit.
        uow.orders.add(order)
        if order.status is OrderStatus.PAID:  # free: a coupon covers it all
            enqueue_fulfilment(uow, order)
        else:
            enqueue(uow, CreatePayment(order_id=order.id), run_at=now + policy.payment_grace)
        hold(uow, order, coupon, _seat_request(request, policy))
        # After the seats: their update locks the performance rows, so a second checkout for
        # the same performance waits for this one and then counts this order too.
        _check_unpaid_cap(uow, order, policy.max_unpaid_per_performance)
        uow.commit()

    return copied(PlacedOrder, order, order_id=order.id)


def _seat_request(request: CheckoutRequest, policy: CheckoutPolicy) -> SeatRequest:
    return SeatRequest(
        chosen={p: tuple(seats) for p, seats in request.seats.items()},
        maximum=policy.max_tickets_per_line,
        companion_rule=policy.companion_rule,
    )


def _coupon(
    uow: UnitOfWork, code: str | None, now: datetime, validation: CartValidation
) -> Coupon | None:
    """The coupon the visitor typed, checked against the order; None without a code."""
    if code is None:
        return None
    coupon = uow.coupons.get_by_code(code)
    if coupon is None:
        raise errors.CouponUnknown(code=code)
    coupon.check(now, validation.subtotal)
    if not _discounted(coupon, validation).cents:
        raise errors.CouponNotForTheseTickets(code=coupon.code)
    return coupon


def _discounted(coupon: Coupon, validation: CartValidation) -> Money:
    """The part of the subtotal the coupon discounts: the lines of its categories."""
    lines = (v.total for v in validation.valid if coupon.applies_to(v.category.name_nl))
    return sum(lines, Money.zero())


def _new_order(
    request: CheckoutRequest,
    email: str,
    name: str,
    validation: CartValidation,
    coupon: Coupon | None,
    now: datetime,
    policy: CheckoutPolicy,
) -> Order:
    """The order for the valid lines, with a ticket per seat, not stored yet."""
    subtotal = validation.subtotal
    order = Order(
        email=email,
        name=name,
        subtotal=subtotal,
        discount=coupon.discount_for(_discounted(coupon, validation)) if coupon else Money.zero(),
        coupon_code=coupon.code if coupon else None,
        user_id=request.user_id,
        newsletter=request.newsletter,
        client_address=request.client_address,
        language=supported_language(request.language),
        created_at=now,
        # The hold ends at the first performance's start at the latest: no paying after it.
        expires_at=min(
            [now + policy.order_ttl, *(v.performance.starts_at for v in validation.valid)]
        ),
    )
    order.tickets = tickets_for(order, validation)
    # Nothing to pay (a coupon covers it all): paid now, no provider (which refuses amounts
    # under its minimum) ever sees it.
    if order.total.cents == 0:
        order.mark_paid(now)
    return order


def tickets_for(order: Order, validation: CartValidation, *, free: bool = False) -> list[Ticket]:
    """A ticket per seat of the valid lines, each at its category's price (0 when `free`)."""
    return [
        Ticket(
            order_id=order.id,
            performance_id=v.performance.id,
            category_id=v.category.id,
            category_name=v.category.name(order.language),
            price=Money.zero() if free else v.category.price,
        )
        for v in validation.valid
        for _ in range(v.line.quantity)
    ]


def _check_unpaid_cap(uow: UnitOfWork, order: Order, cap: int) -> None:
    """Refuse (TooManyUnpaidTickets) when the order lifts its buyer or client over the cap."""
    if not cap:
        return
    for performance_id in sorted({t.performance_id for t in order.tickets}):
        held = uow.orders.unpaid_tickets(
            performance_id, email=order.email, client_address=order.client_address
        )
        if max(held) > cap:
            raise errors.TooManyUnpaidTickets(performance_id=str(performance_id), maximum=cap)


def refusal(line: UnavailableLine) -> errors.MierloosError:
    """The domain error that says why the line cannot be sold."""
    details = {"performance_id": str(line.line.performance_id), "reason": line.reason.value}
    if line.reason is UnavailableReason.UNKNOWN:
        return errors.UnknownPerformance(**details)
    if line.reason.is_about_seats:
        return errors.NotEnoughSeats(**details)
    if line.line.category_id is not None:
        details["category_id"] = str(line.line.category_id)
    if line.reason is UnavailableReason.UNKNOWN_CATEGORY:
        return errors.UnknownPriceCategory(**details)
    if line.reason is UnavailableReason.CATEGORY_NOT_FOR_SALE:
        return errors.PriceCategoryNotForSale(**details)
    if line.reason is UnavailableReason.CATEGORY_SOLD_OUT:
        return errors.PriceCategorySoldOut(**details)
    return errors.PerformanceUnavailable(line.reason.description, **details)

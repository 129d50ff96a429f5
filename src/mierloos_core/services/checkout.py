"""Checkout: turn a cart into a pending order holding its seats, in one transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from mierloos_core import errors
from mierloos_core.model.cart import CartLine, UnavailableLine, merge_lines
from mierloos_core.model.catalog import UnavailableReason
from mierloos_core.model.coupons import CouponUsage
from mierloos_core.model.jobs import JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, Ticket
from mierloos_core.ports import Clock, UnitOfWork
from mierloos_core.services.cart import MAX_TICKETS_PER_LINE, check_quantities, validate_lines

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


@attrs.frozen(kw_only=True)
class CheckoutRequest:
    email: str
    name: str
    lines: Sequence[CartLine]
    coupon_code: str | None = None
    user_id: uuid.UUID | None = None
    newsletter: bool = False


@attrs.frozen(kw_only=True)
class PlacedOrder:
    order_id: uuid.UUID
    number: str
    secret: str = attrs.field(repr=False)
    subtotal: Money
    discount: Money
    total: Money
    expires_at: datetime


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
    if not lines:
        raise errors.EmptyCart()
    if len(lines) > policy.max_lines:
        raise errors.TooManyLines(maximum=policy.max_lines)
    check_quantities(lines, policy.max_tickets_per_line)
    coupon_code = (request.coupon_code or "").strip() or None

    now = clock.now()
    with uow:
        validation = validate_lines(uow, now, lines)
        if validation.unavailable:
            raise _refusal(validation.unavailable[0])
        subtotal = validation.subtotal

        coupon = None
        discount = Money.zero()
        if coupon_code is not None:
            coupon = uow.coupons.get_by_code(coupon_code)
            if coupon is None:
                raise errors.CouponUnknown(code=coupon_code)
            coupon.check(now, subtotal)
            discount = coupon.discount_for(subtotal)

        order = Order(
            email=email,
            name=name,
            subtotal=subtotal,
            discount=discount,
            coupon_code=coupon.code if coupon else None,
            user_id=request.user_id,
            newsletter=request.newsletter,
            created_at=now,
            # The hold ends at the first performance's start at the latest: no paying after it.
            expires_at=min(
                [now + policy.order_ttl, *(v.performance.starts_at for v in validation.valid)]
            ),
        )
        order.tickets = [
            Ticket(order_id=order.id, performance_id=v.performance.id, price=v.performance.price)
            for v in validation.valid
            for _ in range(v.line.quantity)
        ]
        # Inserts first, the contended updates last: the rows everyone wants (coupon,
        # performances) stay locked only from their update to the commit.
        uow.orders.add(order)
        uow.jobs.enqueue(
            JobType.PAYMENT_CREATION,
            {"order_id": str(order.id)},
            run_at=now + policy.payment_grace,
            dedupe_key=f"payment_creation:{order.id}",
        )
        if coupon is not None:
            usage = CouponUsage(
                coupon_id=coupon.id, order_id=order.id, discount=discount, created_at=now
            )
            if not uow.coupons.claim_usage(usage):
                raise errors.CouponExhausted(code=coupon.code)
        uow.seats.reserve({v.performance.id: v.line.quantity for v in validation.valid})
        uow.commit()

    return PlacedOrder(
        order_id=order.id,
        number=order.number,
        secret=order.secret,
        subtotal=order.subtotal,
        discount=order.discount,
        total=order.total,
        expires_at=order.expires_at,
    )


def _refusal(line: UnavailableLine) -> errors.MierloosError:
    details = {"performance_id": str(line.line.performance_id), "reason": line.reason.value}
    if line.reason is UnavailableReason.UNKNOWN:
        return errors.UnknownPerformance(**details)
    if line.reason.is_about_seats:
        return errors.NotEnoughSeats(**details)
    return errors.PerformanceUnavailable(line.reason.description, **details)

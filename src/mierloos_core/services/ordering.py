"""Ordering in the web shop: place the visitor's order, then open its payment.

The checkout throttle is a rule of this use case: every order holds its seats until it is
paid or expires, so one client placing order after order could hold a whole performance.
Only placed orders count against `checkouts_per_client` per `CHECKOUT_WINDOW`: a checkout
the core refuses (sold out, a bad coupon, the cap on unpaid tickets) costs the client nothing.
Concurrent checkouts of one client may pass the check together and overshoot the limit by
their number, once.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import attrs

from mierloos_core import errors
from mierloos_core.ports import ThrottleStore
from mierloos_core.services.base import Service
from mierloos_core.services.checkout import CheckoutPolicy, CheckoutRequest, PlacedOrder, checkout
from mierloos_core.services.payments import PaymentOpening, Payments

CHECKOUT_WINDOW = timedelta(minutes=10)

# What the host does while the core works on one order, e.g. put its id on every log record.
OrderContext = Callable[[uuid.UUID], AbstractContextManager[None]]


def no_order_context(order_id: uuid.UUID) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


@attrs.frozen
class CheckoutRefused:
    """Nothing was placed, and `error` says why (its message is for the visitor).

    A refusal is an answer, not a failure: it comes back as a value, so the caller can tell it
    apart from an error raised after the order was placed (the order exists by then).
    """

    error: errors.MierloosError


@attrs.frozen(kw_only=True)
class OrderPlaced:
    order: PlacedOrder
    payment: PaymentOpening  # where the visitor goes to pay, or why they cannot right now


@attrs.define(eq=False)
class Ordering(Service):
    policy: CheckoutPolicy
    payments: Payments
    throttles: ThrottleStore
    checkouts_per_client: int = 20  # placed orders per client per CHECKOUT_WINDOW; 0: no limit
    order_context: OrderContext = no_order_context

    def place_and_pay(self, request: CheckoutRequest, client: str) -> CheckoutRefused | OrderPlaced:
        """Place the order for `client` (the visitor's address), then open its payment."""
        try:
            placed = self._place(request, client)
        except errors.MierloosError as error:
            return CheckoutRefused(error)
        return OrderPlaced(order=placed, payment=self.pay(placed.order_id, placed))

    def pay(self, order_id: uuid.UUID, placed: PlacedOrder | None = None) -> PaymentOpening:
        """Open the order's payment: the provider's page, or the e-mail when it is down
        (`placed`: the order as checkout has just placed it, see `Payments.start`)."""
        with self.order_context(order_id):
            return self.payments.open_or_defer(order_id, placed)

    def _place(self, request: CheckoutRequest, client: str) -> PlacedOrder:
        """The checkout, throttled per client (TooManyAttempts past the limit)."""
        limit = self.checkouts_per_client
        key = f"checkout:{client}"
        if limit and self.throttles.count(key) >= limit:
            raise errors.TooManyAttempts()
        request = attrs.evolve(request, client_address=client[:64])
        placed = checkout(self.uow(), self.clock, request, self.policy)
        if limit:
            self.throttles.hit(key, CHECKOUT_WINDOW)
        return placed

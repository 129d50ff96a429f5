"""Builders for test data, written through the public unit of work like any caller would."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, Ticket
from mierloos_core.model.price_categories import PriceCategory, Visibility
from mierloos_core.ports import Clock, UnitOfWork
from mierloos_core.services.price_categories import add_categories

_counter = itertools.count(1)


DEFAULT_PRICE = Money(2500)
CATEGORY_PRICE = Money(1500)
NO_MINIMUM = Money(0)


class CatalogBuilder:
    def __init__(self, make_uow: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.make_uow = make_uow
        self.clock = clock

    def show(self, title: str | None = None) -> Show:
        n = next(_counter)
        show = Show(title=title or f"Voorstelling {n}", slug=f"voorstelling-{n}")
        with self.make_uow() as uow:
            uow.shows.add(show)
            uow.commit()
        return show

    def performance(
        self,
        show: Show | None = None,
        *,
        starts_in: timedelta = timedelta(days=7),
        starts_at: datetime | None = None,
        capacity: int = 100,
        available: int | None = None,
        price: Money = DEFAULT_PRICE,
        status: PerformanceStatus = PerformanceStatus.PUBLISHED,
    ) -> Performance:
        show = show or self.show()
        performance = Performance(
            show_id=show.id,
            starts_at=starts_at or self.clock.now() + starts_in,
            price=price,
            capacity=capacity,
            available_seats=capacity if available is None else available,
            status=status,
        )
        with self.make_uow() as uow:
            uow.performances.add(performance)
            add_categories(uow, performance)
            uow.commit()
        return performance

    def category(
        self,
        performance: Performance,
        name: str = "CJP",
        *,
        name_en: str | None = None,
        price: Money = CATEGORY_PRICE,
        limit: int | None = None,
        available: int | None = None,
        visibility: Visibility = Visibility.PUBLIC,
        position: int = 1,
    ) -> PriceCategory:
        """One more price category of the performance (after its "Regulier"); `name` in both
        languages unless `name_en` is given, `available` seats of its `limit` left."""
        category = PriceCategory(
            performance_id=performance.id,
            name_nl=name,
            name_en=name_en or name,
            price=price,
            limit=limit,
            available=available,
            visibility=visibility,
            position=position,
        )
        with self.make_uow() as uow:
            uow.price_categories.add(category)
            uow.commit()
        return category

    def categories(self, performance: Performance) -> list[PriceCategory]:
        with self.make_uow() as uow:
            return uow.price_categories.for_performance(performance.id)

    def coupon(
        self,
        code: str = "WELKOM",
        *,
        kind: DiscountKind = DiscountKind.PERCENTAGE,
        value: Decimal | int | str = 10,
        max_usages: int | None = None,
        minimum_order: Money = NO_MINIMUM,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        active: bool = True,
    ) -> Coupon:
        coupon = Coupon(
            code=code,
            kind=kind,
            value=Decimal(value),
            max_usages=max_usages,
            minimum_order=minimum_order,
            valid_from=valid_from,
            valid_until=valid_until,
            active=active,
        )
        with self.make_uow() as uow:
            uow.coupons.add(coupon)
            uow.commit()
        return coupon

    def order(
        self,
        lines: Sequence[tuple[Performance, int] | tuple[Performance, int, PriceCategory]],
        *,
        paid: bool = True,
        user_id: uuid.UUID | None = None,
        language: str = "nl",
    ) -> Order:
        """An order written straight to the store (no seats taken), paid unless told otherwise;
        a line's tickets are of its category when it names one, else of "Regulier"."""
        now = self.clock.now()
        with self.make_uow() as uow:
            regular = {
                line[0].id: uow.price_categories.for_performance(line[0].id)[0] for line in lines
            }
        bought = [
            (line[0], line[1], line[2] if len(line) > 2 else regular[line[0].id]) for line in lines
        ]
        order = Order(
            email="anna@example.nl",
            name="Anaïs Verbeek",
            subtotal=Money(sum(c.price.cents * n for _, n, c in bought)),
            discount=Money(0),
            created_at=now,
            expires_at=now + timedelta(minutes=15),
            user_id=user_id,
            language=language,
        )
        with self.make_uow() as uow:
            order.tickets = [
                Ticket(
                    order_id=order.id,
                    performance_id=p.id,
                    category_id=c.id,
                    category_name=c.name(language),
                    price=c.price,
                )
                for p, n, c in bought
                for _ in range(n)
            ]
            if paid:
                order.mark_paid(now)
            uow.orders.add(order)
            uow.commit()
        return order

    def seats_left(self, performance: Performance) -> int:
        with self.make_uow() as uow:
            found = uow.performances.get(performance.id)
        assert found is not None
        return found.available_seats

    def coupon_usage_count(self, coupon: Coupon) -> int:
        with self.make_uow() as uow:
            found = uow.coupons.get(coupon.id)
        assert found is not None
        return found.usage_count

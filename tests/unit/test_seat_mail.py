"""The confirmation e-mail names each reserved seat, in the order's language, in text and HTML."""

from __future__ import annotations

import pytest

from mierloos_adapters.email_templates import JinjaEmailTemplates
from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import FixedClock, MemoryUnitOfWork
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.notifications import order_context
from tests.catalog_builders import CatalogBuilder
from tests.seating_builders import reserved_performance


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [("nl", "Zaal, rij 2, stoel 4", "Zaal, rij 2, stoel 5"), ("en", "Zaal, row 2, seat 4", "")],
)
def test_the_confirmation_names_the_seats(
    uow: MemoryUnitOfWork,
    catalog: CatalogBuilder,
    clock: FixedClock,
    language: str,
    first: str,
    second: str,
) -> None:
    def make_uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(uow.store, clock)

    hall = reserved_performance(catalog, make_uow, clock, rows=3, seats_per_row=6)
    seats = (hall.seat("2", 4).id, hall.seat("2", 5).id)
    placed = checkout(
        make_uow(),
        clock,
        CheckoutRequest(
            email="an@example.nl",
            name="An",
            lines=[],
            seats={hall.performance.id: seats},
            language=language,
        ),
    )
    with make_uow() as work:
        order = work.orders.get(placed.order_id)
        assert order is not None
        context = order_context(work, order, SiteLinks("https://kaarten.example.nl"))
    (line,) = context["lines"]
    assert line["quantity"] == 2
    assert first in line["seats"]
    assert len(line["seats"]) == 2
    mail = JinjaEmailTemplates().render(
        "order_confirmed", to="an@example.nl", context=context, locale=language
    )
    assert first in mail.text
    assert mail.html is not None
    assert first in mail.html
    if second:
        assert second in mail.text

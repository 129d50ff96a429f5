"""The Reports port: one set of assertions, worked out by hand from the seed, for the memory
fake, SQLite and Postgres."""

from __future__ import annotations

from decimal import Decimal

from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.ports.reports import LineFilter
from mierloos_core.services.reports import allocate, months_of, parse_period
from tests.report_seed import PERIOD, ids


def _two_shows_refund_part(seeded, key):
    """The per-ticket refund of 30.00 spread over the two performances of its order."""
    weights = {ids(seeded, "a1"): 2500, ids(seeded, "b1"): 6000}
    order = sorted(weights)
    return dict(zip(order, allocate(3000, [weights[i] for i in order]), strict=True))[
        ids(seeded, key)
    ]


def test_a_performance_report_counts_seats_and_splits_revenue(seeded_reports):
    reports, seeded, _engine = seeded_reports
    found = reports.performance(ids(seeded, "a1"))

    assert (found.sold, found.held, found.refunded, found.cancelled) == (5, 2, 2, 1)
    assert (found.capacity, found.free, found.admitted) == (50, 43, 0)
    assert found.show_title == "Hamlet"
    assert found.revenue_cents == 2250 + 2250 + 1125 + 2500 + 0 + 2500 + 2500
    assert [(c.name, c.sold, c.refunded, c.revenue_cents) for c in found.by_category] == [
        ("Kind", 1, 0, 1125),
        ("Regulier", 3, 2, 12000),
        ("Vrijkaart", 1, 0, 0),
    ]
    assert [(m.method, m.orders, m.revenue_cents) for m in found.by_method] == [
        ("fake", 1, 2500),
        ("mollie", 2, 10625),
        (None, 1, 0),
    ]
    assert [
        (c.code, c.orders, c.tickets, c.discount_cents, c.revenue_cents) for c in found.by_coupon
    ] == [
        ("KORT10", 1, 3, 625, 5625),
        (None, 3, 4, 0, 7500),
    ]
    assert found.refunds_cents == 5000 + _two_shows_refund_part(seeded, "a1")
    assert reports.performance(ids(seeded, "a2")).refunds_cents == 1000  # the failed one not


def test_an_unknown_performance_has_no_report(seeded_reports):
    import uuid

    reports, _seeded, _engine = seeded_reports
    assert reports.performance(uuid.uuid4()) is None


def test_a_period_report_counts_orders_placed_and_refunds_made_in_it(seeded_reports):
    reports, seeded, _engine = seeded_reports
    found = reports.period(PERIOD)

    totals = found.totals
    assert (totals.orders, totals.paid_orders, totals.tickets) == (8, 5, 12)
    assert totals.revenue_cents == 5625 + 8500 + 5000 + 7167 + 0
    assert totals.refunds_cents == 3000 + 5000 + 1000
    assert [(r.title, r.orders, r.tickets, r.revenue_cents) for r in found.shows] == [
        ("Hamlet", 5, 10, 20292),
        ("Cabaret <Avond>", 1, 2, 6000),
    ]
    assert [r.refunds_cents for r in found.shows] == [
        5000 + 1000 + _two_shows_refund_part(seeded, "a1"),
        _two_shows_refund_part(seeded, "b1"),
    ]
    assert [r.id for r in found.performances] == [ids(seeded, k) for k in ("a1", "b1", "a2")]
    assert sum(r.revenue_cents for r in found.performances) == totals.revenue_cents
    assert sum(r.refunds_cents for r in found.performances) == totals.refunds_cents
    assert [(r.title, r.capacity, r.sold, r.occupancy) for r in found.occupancy] == [
        ("Hamlet", 50, 5, Decimal("10.0")),
        ("Cabaret <Avond>", 20, 2, Decimal("10.0")),
    ]
    assert found.top_shows(1)[0].title == "Hamlet"


def test_a_period_without_sales_is_all_zero(seeded_reports):
    reports, _seeded, _engine = seeded_reports
    found = reports.period(parse_period("day", "2025-12-25"))

    assert (found.totals.orders, found.totals.revenue_cents, found.totals.refunds_cents) == (
        0,
        0,
        0,
    )
    assert found.shows == found.performances == found.occupancy == ()


def test_revenue_per_month_and_sales_per_day_before_the_start(seeded_reports):
    reports, seeded, _engine = seeded_reports
    months = months_of(parse_period("range", "2026-01-01", "2026-02-28"))

    assert reports.revenue_per_bucket(months) == [3000, 26292]
    [a1] = reports.daily_sales([ids(seeded, "a1")])
    assert a1.per_day == ((19, 3), (18, 1), (17, 2), (12, 1))


def test_ticket_lines_are_the_door_list_with_what_each_ticket_paid(seeded_reports):
    reports, seeded, _engine = seeded_reports
    lines = list(reports.ticket_lines(LineFilter(performance_id=ids(seeded, "a2"))))

    assert [(line.paid_cents, line.price_cents) for line in lines] == [(2389, 2500)] * 3
    assert {line.name for line in lines} == {"Klant odd-coupon"}
    everything = list(reports.ticket_lines(LineFilter()))
    assert len(everything) == 17
    for order in seeded.orders.values():
        if order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
            mine = [line.paid_cents for line in everything if line.order_number == order.number]
            assert sum(mine) == order.total.cents
    valid = list(reports.ticket_lines(LineFilter(status=OrderStatus.PENDING)))
    assert [line.status for line in valid] == [TicketStatus.RESERVED] * 2
    cabaret = list(reports.ticket_lines(LineFilter(show_id=seeded.shows["b"].id, period=PERIOD)))
    assert [line.vat_rate for line in cabaret] == [Decimal("21.00")] * 3


def test_order_lines_carry_totals_and_payment_method(seeded_reports):
    reports, seeded, _engine = seeded_reports
    lines = list(reports.order_lines(LineFilter(period=PERIOD)))

    assert len(lines) == 8
    coupon = next(line for line in lines if line.coupon_code == "KORT10")
    assert (coupon.total_cents, coupon.tickets, coupon.payment_method) == (5625, 3, "mollie")
    cabaret = list(reports.order_lines(LineFilter(show_id=seeded.shows["b"].id)))
    assert {line.order_number for line in cabaret} == {
        seeded.orders[k].number for k in ("two-shows", "cancelled", "january")
    }


def test_money_lines_split_payments_and_refunds_per_show(seeded_reports):
    reports, seeded, _engine = seeded_reports
    lines = list(reports.money_lines(LineFilter(period=PERIOD)))

    payments = [line for line in lines if line.kind == "betaling"]
    refunds = [line for line in lines if line.kind == "terugbetaling"]
    assert sum(line.gross_cents for line in payments) == 5625 + 8500 + 5000 + 7167
    assert sum(line.gross_cents for line in refunds) == -(3000 + 5000 + 1000)
    two = [line for line in payments if line.order_number == seeded.orders["two-shows"].number]
    assert sorted((line.show_title, line.gross_cents, line.vat_rate) for line in two) == [
        ("Cabaret <Avond>", 6000, Decimal("21.00")),
        ("Hamlet", 2500, Decimal("9.00")),
    ]
    assert {line.reference for line in payments} >= {"tr_coupon", "tr_two-shows"}
    assert "tr_first" not in {line.reference for line in payments}

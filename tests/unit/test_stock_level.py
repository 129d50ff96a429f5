"""What visitors are told about the seats left, at the edges of each band."""

import pytest

from mierloos_core.model.stock import (
    ALMOST_SOLD_OUT_SEATS,
    FEW_LEFT_SEATS,
    StockLevel,
    almost_sold_out_from,
    few_left_from,
    stock_level,
)

AVAILABLE, FEW, ALMOST, SOLD_OUT = (
    StockLevel.AVAILABLE,
    StockLevel.FEW_LEFT,
    StockLevel.ALMOST_SOLD_OUT,
    StockLevel.SOLD_OUT,
)


@pytest.mark.parametrize(
    ("available", "capacity", "level"),
    [
        # A hall of 200: few from 20 seats (10%), almost sold out from 5 (the seats cap 3%).
        (200, 200, AVAILABLE),
        (21, 200, AVAILABLE),
        (20, 200, FEW),
        (6, 200, FEW),
        (5, 200, ALMOST),
        (1, 200, ALMOST),
        (0, 200, SOLD_OUT),
        # A big hall: the seat counts cap both bands.
        (21, 1000, AVAILABLE),
        (20, 1000, FEW),
        (6, 1000, FEW),
        (5, 1000, ALMOST),
        # A small hall: the shares do, rounded up (8 of 80 is 10%, 3% of 80 is 2.4).
        (9, 80, AVAILABLE),
        (8, 80, FEW),
        (4, 80, FEW),
        (3, 80, ALMOST),
        # A tiny limit still has a last seat that is almost sold out.
        (2, 10, AVAILABLE),
        (1, 10, ALMOST),
        (0, 10, SOLD_OUT),
        (1, 1, ALMOST),
        (0, 0, SOLD_OUT),
    ],
)
def test_the_level_at_each_edge(available: int, capacity: int, level: StockLevel) -> None:
    assert stock_level(available, capacity) is level


def test_the_bands_nest_and_only_go_down_as_seats_go() -> None:
    order = [SOLD_OUT, ALMOST, FEW, AVAILABLE]
    for capacity in range(1201):
        almost, few = almost_sold_out_from(capacity), few_left_from(capacity)
        assert 0 <= almost <= few <= min(FEW_LEFT_SEATS, capacity), capacity
        assert almost <= ALMOST_SOLD_OUT_SEATS
        assert almost >= 1 or capacity == 0
        ranks = [order.index(stock_level(n, capacity)) for n in range(capacity + 1)]
        assert ranks == sorted(ranks), capacity


@pytest.mark.parametrize(("available", "capacity"), [(-1, 10), (11, 10), (0, -1)])
def test_impossible_numbers_are_refused(available: int, capacity: int) -> None:
    with pytest.raises(ValueError, match="between 0 and capacity"):
        stock_level(available, capacity)


def test_only_plenty_goes_unsaid() -> None:
    assert [level.is_told for level in StockLevel] == [False, True, True, True]


def test_a_performance_is_told_by_its_own_numbers(catalog) -> None:
    assert catalog.performance(capacity=120, available=12).stock is FEW
    assert catalog.performance(capacity=120, available=0).stock is SOLD_OUT
    assert catalog.performance(capacity=120).stock is AVAILABLE

from decimal import Decimal

import pytest

from mierloos_core.model.money import Money


def test_money_from_euro_text_is_exact():
    assert Money.euros("12.50") == Money(1250)
    assert Money.euros(Decimal("0.1")) + Money.euros(Decimal("0.2")) == Money(30)


def test_money_refuses_fractions_of_cents_and_floats():
    with pytest.raises(ValueError, match="two decimals"):
        Money.euros("1.005")
    with pytest.raises(TypeError):
        Money(12.5)  # type: ignore[arg-type]


def test_money_formats_for_visitors_and_providers():
    assert Money(123450).display() == "€ 1.234,50"
    assert Money(-5).display() == "-€ 0,05"
    assert Money(1).provider_value() == "0.01"
    assert Money(123456).provider_value() == "1234.56"


def test_money_arithmetic():
    assert Money(250) * 3 == Money(750)
    assert 3 * Money(250) == Money(750)
    assert Money(1000) - Money(1) == Money(999)
    assert Money(999).percentage(50) == Money(500)

"""Money as integer cents. Never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import attrs


@attrs.frozen(order=True)
class Money:
    """An amount in euro cents."""

    cents: int = attrs.field(validator=attrs.validators.instance_of(int))

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def euros(cls, amount: str | int | Decimal) -> Money:
        """Money from a euro amount given as text or Decimal, e.g. ``Money.euros("12.50")``."""
        value = Decimal(amount) * 100
        if value != value.to_integral_value():
            raise ValueError(f"{amount!r} has more than two decimals")
        return cls(int(value))

    def __add__(self, other: Money) -> Money:
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        return Money(self.cents - other.cents)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            return NotImplemented
        return Money(self.cents * factor)

    __rmul__ = __mul__

    def percentage(self, percent: Decimal | int) -> Money:
        """`percent` % of this amount, rounded half up to whole cents."""
        exact = Decimal(self.cents) * Decimal(percent) / 100
        return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))

    def decimal(self) -> Decimal:
        return (Decimal(self.cents) / 100).quantize(Decimal("0.01"))

    def provider_value(self) -> str:
        """The amount as payment providers want it: ``"12.50"``."""
        return f"{self.decimal():.2f}"

    def display(self) -> str:
        """Dutch notation: ``€ 1.234,50``."""
        sign = "-" if self.cents < 0 else ""
        euros, cents = divmod(abs(self.cents), 100)
        grouped = f"{euros:,}".replace(",", ".")
        return f"{sign}€ {grouped},{cents:02d}"

    def __str__(self) -> str:
        return self.display()

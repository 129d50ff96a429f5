"""Staff's coupons: list them with their use, create, edit, deactivate and activate again.

Invalid input raises `errors.ValidationError` with `details["fields"]` (field -> message),
like the catalogue service. Times are given as wall-clock times in Mierlo.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal

import attrs

from mierloos_core import errors
from mierloos_core.model.coupons import Coupon, DiscountKind, normalize_code
from mierloos_core.model.money import Money
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.staff_catalog import from_amsterdam, invalid

MAX_CODE = 50
MAX_DESCRIPTION = 200
MAX_FIXED = Money(100_000)
MAX_USAGES = 1_000_000
MAX_MINIMUM = Money(1_000_000)
MAX_CATEGORY_NAME = 100

_CODE = re.compile(r"[A-Z0-9_-]{2,50}")


@attrs.frozen(kw_only=True)
class CouponForm:
    code: str
    kind: DiscountKind
    value: Decimal  # PERCENTAGE: percent (1 to 100); FIXED: cents
    valid_from: datetime | None = None  # wall-clock times in Mierlo, without a time zone
    valid_until: datetime | None = None
    max_usages: int | None = None
    minimum_order: Money = attrs.field(factory=Money.zero)
    description: str = ""
    # The Dutch names of the price categories it discounts; None: all of them.
    category_names: tuple[str, ...] | None = None


@attrs.define(eq=False)
class StaffCoupons(Service):
    def list(self) -> list[Coupon]:
        """Every coupon by code; `usage_count` counts the uses not given back."""
        with self.uow() as uow:
            return sorted(uow.coupons.list(), key=lambda coupon: coupon.code)

    def get(self, coupon_id: uuid.UUID) -> Coupon:
        with self.uow() as uow:
            return _coupon(uow, coupon_id)

    def create(self, form: CouponForm) -> Coupon:
        coupon = _check(form)
        with self.uow() as uow:
            _require_free_code(uow, coupon.code, None)
            uow.coupons.add(coupon)
            uow.commit()
        return coupon

    def edit(self, coupon_id: uuid.UUID, form: CouponForm) -> Coupon:
        """Change a coupon; its limit cannot go below the uses it already has."""
        changed = _check(form)
        with self.uow() as uow:
            # Locked: a deactivation meanwhile is never written over with the old state.
            coupon = _coupon(uow, coupon_id, lock=True)
            _require_free_code(uow, changed.code, coupon_id)
            limit = changed.max_usages
            if limit is not None and limit < coupon.usage_count:
                raise invalid(
                    {
                        "max_usages": f"Deze code is al {coupon.usage_count} keer gebruikt: "
                        f"het maximum kan niet lager dan {coupon.usage_count}."
                    }
                )
            updated = attrs.evolve(
                changed, id=coupon.id, usage_count=coupon.usage_count, active=coupon.active
            )
            uow.coupons.update(updated)
            uow.commit()
        return updated

    def deactivate(self, coupon_id: uuid.UUID) -> Coupon:
        return self._set_active(coupon_id, active=False)

    def activate(self, coupon_id: uuid.UUID) -> Coupon:
        return self._set_active(coupon_id, active=True)

    def _set_active(self, coupon_id: uuid.UUID, *, active: bool) -> Coupon:
        with self.uow() as uow:
            coupon = _coupon(uow, coupon_id, lock=True)
            coupon.active = active
            uow.coupons.update(coupon)
            uow.commit()
        return coupon


def _check(form: CouponForm) -> Coupon:
    """A new coupon as the form says, or a ValidationError naming every bad field."""
    problems: dict[str, str] = {}
    code = normalize_code(form.code)
    if not _CODE.fullmatch(code):
        problems["code"] = (
            f"Een code heeft 2 tot {MAX_CODE} tekens: letters, cijfers, - en _, zonder spaties."
        )
    value = form.value
    if form.kind is DiscountKind.PERCENTAGE:
        if not (value.is_finite() and 1 <= value <= 100 and value == round(value, 2)):
            problems["value"] = "Kies een percentage van 1 tot en met 100."
    elif not (value.is_finite() and value == value.to_integral_value() and value >= 1):
        problems["value"] = "Kies een kortingsbedrag van minstens € 0,01."
    elif value > MAX_FIXED.cents:
        problems["value"] = f"Een kortingsbedrag is hoogstens {MAX_FIXED.display()}."

    valid_from = valid_until = None
    for name in ("valid_from", "valid_until"):
        wall_time = getattr(form, name)
        if wall_time is None:
            continue
        try:
            moment = from_amsterdam(wall_time)
        except errors.ValidationError:
            problems[name] = "Dit tijdstip bestaat niet: die nacht gaat de klok een uur vooruit."
            continue
        if name == "valid_from":
            valid_from = moment
        else:
            valid_until = moment
    if valid_from and valid_until and valid_until <= valid_from:
        problems["valid_until"] = "Het einde van de geldigheid moet na het begin liggen."

    if form.max_usages is not None and not 1 <= form.max_usages <= MAX_USAGES:
        problems["max_usages"] = f"Kies een maximum van 1 tot en met {MAX_USAGES}, of geen."
    if not Money.zero() <= form.minimum_order <= MAX_MINIMUM:
        problems["minimum_order"] = (
            f"Kies een minimumbedrag van € 0,00 tot en met {MAX_MINIMUM.display()}."
        )
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION or any(ord(c) < 32 for c in description):
        problems["description"] = f"Een omschrijving heeft hoogstens {MAX_DESCRIPTION} tekens."
    _check_category_names(form.category_names, problems)
    if problems:
        raise invalid(problems)
    return Coupon(
        code=code,
        kind=form.kind,
        value=value,
        valid_from=valid_from,
        valid_until=valid_until,
        max_usages=form.max_usages,
        minimum_order=form.minimum_order,
        description=description,
        category_names=form.category_names,
    )


def _check_category_names(names: tuple[str, ...] | None, problems: dict[str, str]) -> None:
    if names is not None and (
        not any(n.strip() for n in names) or any(len(n) > MAX_CATEGORY_NAME for n in names)
    ):
        problems["category_names"] = (
            f"Noem minstens één prijscategorie (hoogstens {MAX_CATEGORY_NAME} tekens per naam), "
            "of laat de code voor alle categorieën gelden."
        )


def _require_free_code(uow: UnitOfWork, code: str, coupon_id: uuid.UUID | None) -> None:
    other = uow.coupons.get_by_code(code)
    if other is not None and other.id != coupon_id:
        raise invalid({"code": "Deze code bestaat al. Kies een andere."})


def _coupon(uow: UnitOfWork, coupon_id: uuid.UUID, *, lock: bool = False) -> Coupon:
    missing = errors.NotFound("Deze kortingscode bestaat niet.", coupon_id=str(coupon_id))
    return errors.required(uow.coupons.get(coupon_id, for_update=lock), missing)

"""Demo data for the embedded site: a few shows, one sold out, one past, one cancelled, one
with several price categories (a child's ticket, and a complimentary one for staff only), and
one performance sold by numbered seats in the "Grote zaal" (two zones, two prices).

And a staff login to try the admin pages with: created once, with a random password that is
printed when it is made and kept in `var/staff-login.txt` (readable by its owner only).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import attrs

from mierloos_adapters.clock import SystemClock
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import CategoryTemplate, PriceCategory, Visibility
from mierloos_core.model.seating import SectionSpec
from mierloos_core.model.timeutil import AMSTERDAM
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.accounts import Accounts
from mierloos_core.services.images import ShowImages
from mierloos_core.services.price_categories import add_categories
from mierloos_core.services.seating import Seating
from mierloos_entrypoints.demo_posters import draw_poster

DEMO_STAFF_EMAIL = "kassa@ons-mierloos-theater.nl"
STAFF_LOGIN_FILE = "staff-login.txt"

# Each show's fields, then its performances as (days from today, hour, minute, capacity, special).
SHOWS = [
    (
        {
            "title": "De Gebroeders Mierlo",
            "slug": "gebroeders-mierlo",
            "description": "Een komedie over twee broers, één bakkerij en heel veel meel.",
            "genre": "Toneel",
            "duration_minutes": 110,
            "age_advice": "12+",
        },
        [(7, 20, 15, 120, None), (14, 20, 15, 120, None), (21, 14, 30, 120, "reserved")],
    ),
    (
        {
            "title": "Het Zwanenmeer (Brabants Balletgezelschap)",
            "slug": "zwanenmeer",
            "description": "Tsjaikovski's klassieker, in een intieme bewerking voor ons kleine"
            " podium.",
            "genre": "Dans",
            "duration_minutes": 95,
            "age_advice": "6+",
        },
        [(10, 19, 30, 80, None), (11, 19, 30, 80, "sold_out")],
    ),
    (
        {
            "title": "Jazz op Zondag",
            "slug": "jazz-op-zondag",
            "description": "Het Mierlose Jazzkwartet met gasten. Vrije plaatsing, koffie"
            " inbegrepen.",
            "genre": "Muziek",
            "duration_minutes": 120,
        },
        [(-3, 15, 0, 60, None), (5, 15, 0, 60, "cancelled"), (33, 15, 0, 60, None)],
    ),
    (
        {
            "title": "Uitverkocht! Een avond cabaret",
            "slug": "cabaret-uitverkocht",
            "description": "Cabaret met een knipoog naar het dorpsleven.",
            "genre": "Cabaret",
            "duration_minutes": 90,
            "age_advice": "16+",
        },
        [(3, 20, 30, 90, "sold_out")],
    ),
]


# A show's default categories besides "Regulier" (which costs what the performance costs):
# Dutch name, English name, price in cents, who can buy it.
DEMO_CATEGORIES = {
    "zwanenmeer": [
        ("Kind t/m 12", "Child up to 12", 1000, Visibility.PUBLIC),
        ("Vrijkaart", "Complimentary", 0, Visibility.STAFF),
    ],
}


def _default_categories(show: Show, price: Money) -> list[CategoryTemplate]:
    extra = DEMO_CATEGORIES.get(show.slug, [])
    if not extra:
        return []
    regular = CategoryTemplate(show_id=show.id, name_nl="Regulier", name_en="Regular", price=price)
    return [regular] + [
        CategoryTemplate(
            show_id=show.id,
            name_nl=name_nl,
            name_en=name_en,
            price=Money(cents),
            visibility=visibility,
            position=position,
        )
        for position, (name_nl, name_en, cents, visibility) in enumerate(extra, start=1)
    ]


def load_demo_data(
    make_uow: Callable[[], UnitOfWork], now: datetime, images: ShowImages | None = None
) -> bool:
    """Add the demo catalogue unless there are shows already. True when it added them.

    With `images`, each show also gets its own poster, uploaded as staff would (a job makes
    the sizes the site shows).
    """
    shows: list[Show] = []
    reserved: list[Performance] = []
    with make_uow() as uow:
        if uow.shows.list():
            return False
        today = now.astimezone(AMSTERDAM).date()
        for fields, performances in SHOWS:
            show = Show(**fields, created_at=now)
            shows.append(show)
            uow.shows.add(show)
            uow.price_categories.replace_templates(show.id, _default_categories(show, Money(1750)))
            for when in performances:
                performance = _performance(show, today, *when)
                uow.performances.add(performance)
                add_categories(uow, performance)
                if when[-1] == "reserved":
                    reserved.append(performance)
        uow.coupons.add(
            Coupon(
                code="WELKOM10",
                kind=DiscountKind.PERCENTAGE,
                value=Decimal(10),
                description="10% korting voor nieuwe bezoekers",
            )
        )
        uow.commit()
    for performance in reserved:
        _sell_by_seat(make_uow, performance)
    if images is not None:
        for show in shows:
            images.upload(show.id, draw_poster(show.title, show.slug, show.genre), "affiche.jpg")
    return True


def _performance(
    show: Show, today: date, days: int, hour: int, minute: int, capacity: int, special: str | None
) -> Performance:
    starts = datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=AMSTERDAM)
    cancelled = special == "cancelled"
    return Performance(
        show_id=show.id,
        starts_at=starts,
        price=Money(2250 if capacity > 80 else 1750),
        capacity=capacity,
        available_seats=0 if special == "sold_out" else capacity,
        status=PerformanceStatus.CANCELLED if cancelled else PerformanceStatus.PUBLISHED,
        hall="Grote zaal" if capacity >= 100 else None,
    )


# The demo hall: 10 rows of 12 with an aisle in the middle; the front four rows are "Rang 1".
DEMO_HALL = SectionSpec(
    name="Zaal",
    rows=10,
    seats_per_row=12,
    aisles_after=(6,),
    curve_radius=14,
    zones=(("Rang 1", 4), ("Rang 2", 6)),
)


def _sell_by_seat(make_uow: Callable[[], UnitOfWork], performance: Performance) -> None:
    """Put `performance` on the demo hall's plan: "Rang 1" in a category of its own."""
    seating = Seating(make_uow, SystemClock())
    hall = seating.add_hall("Grote zaal")
    plan = seating.generate(hall.id, "Grote zaal", [DEMO_HALL])
    first_rank = PriceCategory(
        performance_id=performance.id,
        name_nl="Rang 1",
        name_en="First rank",
        price=Money(2750),
        position=1,
    )
    with make_uow() as uow:
        uow.price_categories.add(first_rank)
        regular = uow.price_categories.for_performance(performance.id)[0]
        uow.commit()
    seating.put_on_sale(performance.id, plan.id, {"Rang 1": first_rank.id, "Rang 2": regular.id})


@attrs.frozen
class DemoLogin:
    email: str
    password: str | None
    """Set only on the run that created the account: print it once."""
    file: Path


def ensure_demo_staff(
    make_uow: Callable[[], UnitOfWork], accounts: Accounts, var_dir: Path
) -> DemoLogin:
    """The demo staff account, created with a random password unless it exists already."""
    file = var_dir / STAFF_LOGIN_FILE
    with make_uow() as uow:
        existing = uow.users.get_by_email(DEMO_STAFF_EMAIL)
    if existing is not None:
        return DemoLogin(DEMO_STAFF_EMAIL, None, file)
    password = secrets.token_urlsafe(12)
    accounts.create_staff(DEMO_STAFF_EMAIL, "Kassa (demo)", password)
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"e-mail: {DEMO_STAFF_EMAIL}\nwachtwoord: {password}\n")
    return DemoLogin(DEMO_STAFF_EMAIL, password, file)

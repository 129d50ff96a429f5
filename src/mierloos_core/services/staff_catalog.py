"""Staff's catalogue: shows and their performances, from concept to archive.

Invalid input raises `errors.ValidationError` whose `details["fields"]` maps each form field
to its message, so a form can show every problem next to its field at once.

Cancelling a performance, and what becomes of its orders, is `performance_cancellation`.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import attrs

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.files import Image
from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.timeutil import AMSTERDAM, utc
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.order_lifecycle import get_performance, seats_added
from mierloos_core.services.performance_cancellation import (
    Cancellation,
    RefundProgress,
    cancel_performance,
    refund_progress,
)
from mierloos_core.services.price_categories import add_categories, keep_base_price
from mierloos_core.services.reports import DEFAULT_VAT_RATE, parse_vat_rate

MAX_TITLE = 200
MAX_SLUG = 120
MAX_DESCRIPTION = 4000
MAX_HALL = 100
MAX_GENRE = 40
MAX_AGE_ADVICE = 20
MAX_DURATION_MINUTES = 600
MAX_CAPACITY = 10_000
MAX_PRICE = Money(100_000)
FALLBACK_SLUG = "voorstelling"

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SOLD = (OrderStatus.PAID, OrderStatus.REFUNDED)


def invalid(fields: Mapping[str, str]) -> errors.ValidationError:
    """One error for all problems of a form: the first message, and every field's."""
    return errors.ValidationError(next(iter(fields.values())), fields=dict(fields))


def slugify(title: str) -> str:
    """A URL name for `title`: 'Café & Co' -> 'cafe-en-co', 'Tsjaikovski's' -> 'tsjaikovskis'."""
    text = title.lower().replace("&", " en ").replace("\u0133", "ij")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['\u2019`]", "", text)
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:MAX_SLUG].rstrip("-") or FALLBACK_SLUG


def from_amsterdam(wall_time: datetime) -> datetime:
    """UTC for a naive date and time as a clock in Mierlo shows it.

    A time that does not exist (skipped when summer time starts) is refused; a time that
    happens twice (when it ends) means the first, still in summer time.
    """
    moment = _utc_or_none(wall_time)
    if moment is None:
        raise invalid({"starts_at": _SKIPPED_HOUR})
    return moment


_SKIPPED_HOUR = "Dit tijdstip bestaat niet: die nacht gaat de klok een uur vooruit."


def _utc_or_none(wall_time: datetime) -> datetime | None:
    if wall_time.tzinfo is not None:
        raise ValueError("expected a wall-clock time without a time zone")
    moment = utc(wall_time.replace(tzinfo=AMSTERDAM, fold=0))
    if moment.astimezone(AMSTERDAM).replace(tzinfo=None) != wall_time:
        return None
    return moment


@attrs.frozen(kw_only=True)
class ShowForm:
    title: str
    slug: str = ""  # empty: made from the title
    description: str = ""
    genre: str = ""
    duration_minutes: int | None = None
    age_advice: str = ""
    vat_rate: str = ""  # a percentage as typed (9, 21, 9,00); empty: the Dutch 9 % for theatre


@attrs.frozen(kw_only=True)
class PerformanceForm:
    starts_at: datetime  # wall-clock time in Mierlo, without a time zone
    price: Money
    capacity: int
    hall: str = ""


@attrs.frozen(kw_only=True)
class ShowSummary:
    show: Show
    performances: list[Performance]  # soonest first, every status


@attrs.frozen(kw_only=True)
class ShowDetails:
    show: Show
    performances: list[Performance]
    image: Image | None  # what the site shows now
    latest_upload: Image | None  # the newest upload, maybe still being processed


@attrs.frozen(kw_only=True)
class PerformanceDetails:
    show: Show
    performance: Performance
    paid_orders: int
    pending_orders: int
    refunds: RefundProgress | None = None


@attrs.define(eq=False)
class StaffCatalog(Service):
    # --- reading -----------------------------------------------------------------------------

    def overview(self) -> list[ShowSummary]:
        with self.uow() as uow:
            return [
                ShowSummary(show=show, performances=uow.performances.for_show(show.id))
                for show in sorted(uow.shows.list(), key=lambda s: s.title.lower())
            ]

    def show(self, show_id: uuid.UUID) -> ShowDetails:
        with self.uow() as uow:
            show = _show(uow, show_id)
            return ShowDetails(
                show=show,
                performances=uow.performances.for_show(show_id),
                image=uow.images.get(show.image_id) if show.image_id else None,
                latest_upload=uow.images.latest_for_show(show_id),
            )

    def performance(self, performance_id: uuid.UUID) -> PerformanceDetails:
        with self.uow() as uow:
            performance = get_performance(uow, performance_id)
            return PerformanceDetails(
                show=_show(uow, performance.show_id),
                performance=performance,
                paid_orders=len(_orders(uow, performance_id, OrderStatus.PAID)),
                pending_orders=len(_orders(uow, performance_id, OrderStatus.PENDING)),
                refunds=refund_progress(uow, performance),
            )

    # --- shows -------------------------------------------------------------------------------

    def create_show(self, form: ShowForm) -> Show:
        title, description = _check_show(form)
        with self.uow() as uow:
            show = Show(
                title=title,
                slug=_free_slug(uow, form.slug, title, None),
                description=description,
                genre=" ".join(form.genre.split()),
                duration_minutes=form.duration_minutes,
                age_advice=form.age_advice.strip(),
                vat_rate=_vat_rate(form),
                created_at=self.clock.now(),
            )
            uow.shows.add(show)
            uow.commit()
        return show

    def edit_show(self, show_id: uuid.UUID, form: ShowForm) -> Show:
        title, description = _check_show(form)
        with self.uow() as uow:
            show = _show(uow, show_id)
            show.slug = _free_slug(uow, form.slug, title, show_id)
            show.title = title
            show.description = description
            show.genre = " ".join(form.genre.split())
            show.duration_minutes = form.duration_minutes
            show.age_advice = form.age_advice.strip()
            show.vat_rate = _vat_rate(form)
            uow.shows.update(show)
            uow.commit()
        return show

    # --- performances ------------------------------------------------------------------------

    def add_performance(self, show_id: uuid.UUID, form: PerformanceForm) -> Performance:
        """A new performance, as a concept: publishing it is a separate step."""
        starts_at = self._check_performance(form, previous=None)
        with self.uow() as uow:
            _show(uow, show_id)
            performance = Performance(
                show_id=show_id,
                starts_at=starts_at,
                price=form.price,
                capacity=form.capacity,
                available_seats=form.capacity,
                hall=form.hall.strip() or None,
            )
            uow.performances.add(performance)
            add_categories(uow, performance)
            uow.commit()
        return performance

    def edit_performance(self, performance_id: uuid.UUID, form: PerformanceForm) -> Performance:
        """Change date, price, capacity and hall of a concept or published performance.

        The capacity can go down only as far as the seats already taken (held or sold); the
        change is one conditional update, so a checkout at the same moment cannot oversell.
        """
        with self.uow() as uow:
            # Locked: a cancel or status change meanwhile is never written over.
            performance = get_performance(uow, performance_id, lock=True)
            if not performance.editable:
                raise errors.InvalidTransition(
                    "Een geannuleerde of gearchiveerde voorstelling kan niet meer veranderen.",
                    performance_id=str(performance_id),
                )
            performance.starts_at = self._check_performance(form, previous=performance)
            performance.price = form.price
            performance.hall = form.hall.strip() or None
            if form.capacity != performance.capacity and uow.seating.plan_of(performance_id):
                raise invalid(
                    {"capacity": "De capaciteit volgt het zaalplan van deze voorstelling."}
                )
            if form.capacity != performance.capacity and not uow.performances.change_capacity(
                performance_id, form.capacity
            ):
                taken = get_performance(uow, performance_id).seats_taken
                raise invalid(
                    {
                        "capacity": f"Er zijn al {taken} plaatsen verkocht of gereserveerd: "
                        f"de capaciteit kan niet lager dan {taken}."
                    }
                )
            added = form.capacity - performance.capacity
            performance.capacity = form.capacity
            uow.performances.update(performance)
            if added > 0:
                seats_added(uow, performance_id, added, source=f"capacity:{new_id()}")
            keep_base_price(uow, performance)
            stored = get_performance(uow, performance_id)
            uow.commit()
        return stored

    def publish(self, performance_id: uuid.UUID) -> Performance:
        return self._move(performance_id, PerformanceStatus.PUBLISHED)

    def unpublish(self, performance_id: uuid.UUID) -> Performance:
        """Back to concept, only while no seat was ever sold or is held for a pending order."""
        return self._move(performance_id, PerformanceStatus.DRAFT)

    def archive(self, performance_id: uuid.UUID) -> Performance:
        return self._move(performance_id, PerformanceStatus.ARCHIVED)

    def cancel(self, performance_id: uuid.UUID, *, refund_paid: bool = False) -> Cancellation:
        """Cancel a published performance and its pending orders; with `refund_paid`, refund
        every paid order too (see `performance_cancellation`)."""
        now = self.clock.now()
        with self.uow() as uow:
            cancellation = cancel_performance(uow, performance_id, now, refund_paid=refund_paid)
            uow.commit()
        return cancellation

    def _move(self, performance_id: uuid.UUID, status: PerformanceStatus) -> Performance:
        now = self.clock.now()
        with self.uow() as uow:
            performance = get_performance(uow, performance_id, lock=True)
            performance.move_to(status, now)
            uow.performances.update(performance)
            # Checked after the update, which locks the row against checkouts meanwhile.
            if status is PerformanceStatus.DRAFT and (
                _orders(uow, performance_id, OrderStatus.PENDING, *_SOLD)
                or get_performance(uow, performance_id).seats_taken
            ):
                raise errors.InvalidTransition(
                    "Voor deze voorstelling zijn al kaarten verkocht of gereserveerd: "
                    "terug naar concept kan niet meer. Annuleer haar als ze niet doorgaat.",
                    performance_id=str(performance_id),
                )
            uow.commit()
        return performance

    def _check_performance(self, form: PerformanceForm, previous: Performance | None) -> datetime:
        problems: dict[str, str] = {}
        starts_at = _utc_or_none(form.starts_at)
        if starts_at is None:
            problems["starts_at"] = _SKIPPED_HOUR
        changed = previous is None or starts_at != previous.starts_at
        if starts_at is not None and changed and starts_at <= self.clock.now():
            problems["starts_at"] = "Kies een moment in de toekomst."
        if not Money(1) <= form.price <= MAX_PRICE:
            problems["price"] = f"Kies een prijs van € 0,01 tot en met {MAX_PRICE.display()}."
        if not 1 <= form.capacity <= MAX_CAPACITY:
            problems["capacity"] = f"Kies een capaciteit van 1 tot en met {MAX_CAPACITY}."
        hall = form.hall.strip()
        if len(hall) > MAX_HALL or _has_control_characters(hall):
            problems["hall"] = f"Een zaal heet hoogstens {MAX_HALL} gewone tekens."
        if problems or starts_at is None:
            raise invalid(problems)
        return starts_at


def _check_show(form: ShowForm) -> tuple[str, str]:
    problems: dict[str, str] = {}
    title = " ".join(form.title.split())
    if not title or len(title) > MAX_TITLE:
        problems["title"] = f"Vul een titel in van hoogstens {MAX_TITLE} tekens."
    slug = form.slug.strip()
    if slug and (len(slug) > MAX_SLUG or not _SLUG.fullmatch(slug)):
        problems["slug"] = (
            f"Een korte naam bestaat uit kleine letters, cijfers en streepjes "
            f"(hoogstens {MAX_SLUG} tekens), of laat het veld leeg."
        )
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION or "\x00" in description:
        problems["description"] = f"Een beschrijving heeft hoogstens {MAX_DESCRIPTION} tekens."
    if _has_control_characters(title):
        problems["title"] = "De titel bevat ongeldige tekens."
    genre, age = " ".join(form.genre.split()), form.age_advice.strip()
    if len(genre) > MAX_GENRE or _has_control_characters(genre):
        problems["genre"] = (
            f"Een genre is hoogstens {MAX_GENRE} gewone tekens, bijvoorbeeld Toneel."
        )
    if len(age) > MAX_AGE_ADVICE or _has_control_characters(age):
        problems["age_advice"] = (
            f"Een leeftijdsadvies is hoogstens {MAX_AGE_ADVICE} tekens, bijvoorbeeld 8+."
        )
    try:
        _vat_rate(form)
    except errors.ValidationError as refused:
        problems["vat_rate"] = refused.message
    minutes = form.duration_minutes
    if minutes is not None and not 1 <= minutes <= MAX_DURATION_MINUTES:
        problems["duration_minutes"] = (
            f"Kies een duur van 1 tot en met {MAX_DURATION_MINUTES} minuten, of laat het veld leeg."
        )
    if problems:
        raise invalid(problems)
    return title, description


def _vat_rate(form: ShowForm) -> Decimal:
    return parse_vat_rate(form.vat_rate) if form.vat_rate.strip() else DEFAULT_VAT_RATE


def _free_slug(uow: UnitOfWork, wanted: str, title: str, show_id: uuid.UUID | None) -> str:
    """The slug staff typed (refused when another show has it), or one made from the title."""

    def taken(slug: str) -> bool:
        other = uow.shows.get_by_slug(slug)
        return other is not None and other.id != show_id

    wanted = wanted.strip()
    if wanted:
        if taken(wanted):
            raise invalid({"slug": "Deze korte naam is al in gebruik bij een andere voorstelling."})
        return wanted
    base = slugify(title)
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_SLUG - len(suffix)].rstrip("-") + suffix
    return candidate


def _show(uow: UnitOfWork, show_id: uuid.UUID) -> Show:
    missing = errors.NotFound("Deze voorstelling bestaat niet.", show_id=str(show_id))
    return errors.required(uow.shows.get(show_id), missing)


def _orders(uow: UnitOfWork, performance_id: uuid.UUID, *statuses: OrderStatus) -> list[uuid.UUID]:
    return uow.orders.ids_for_performance(performance_id, statuses)


def _has_control_characters(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)

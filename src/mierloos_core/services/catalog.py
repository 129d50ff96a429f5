"""What visitors can see and buy: upcoming shows and their sellable performances."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

import attrs

from mierloos_core.errors import NotFound
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.price_categories import PriceCategory, in_order
from mierloos_core.model.timeutil import local
from mierloos_core.ports import UnitOfWork


@attrs.frozen(kw_only=True)
class ShowListing:
    show: Show
    performances: list[Performance]  # published and still to come, soonest first
    # Per performance, the categories visitors may buy (public ones), in their order.
    categories: dict[uuid.UUID, list[PriceCategory]] = attrs.field(factory=dict)

    def categories_of(self, performance: Performance) -> list[PriceCategory]:
        return self.categories.get(performance.id, [])

    @property
    def first_date(self) -> datetime:
        return self.performances[0].starts_at

    @property
    def sold_out(self) -> bool:
        return all(p.sold_out for p in self.performances)

    @property
    def scarce(self) -> list[Performance]:
        """The performances visitors are told the seats left of (few, almost or none)."""
        return [p for p in self.performances if p.stock.is_told]

    @property
    def scarce_categories(self) -> list[tuple[Performance, PriceCategory]]:
        """The limited categories visitors are told the seats left of, with their performance
        (one that is sold out as a whole says so itself)."""
        return [
            (performance, category)
            for performance in self.performances
            if not performance.sold_out
            for category in self.categories_of(performance)
            if category.stock is not None and category.stock.is_told
        ]


def upcoming_shows(uow: UnitOfWork, now: datetime) -> list[ShowListing]:
    """Shows with at least one published performance still to come, by their first date."""
    with uow:
        per_show: dict[uuid.UUID, list[Performance]] = defaultdict(list)
        for performance in uow.performances.upcoming(now):
            per_show[performance.show_id].append(performance)
        categories = public_categories(uow, [p.id for ps in per_show.values() for p in ps])
        listings = []
        for show_id, performances in per_show.items():
            show = uow.shows.get(show_id)
            if show is not None:
                listings.append(
                    ShowListing(show=show, performances=performances, categories=categories)
                )
    return sorted(listings, key=lambda listing: listing.first_date)


def public_categories(
    uow: UnitOfWork, performance_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[PriceCategory]]:
    """Per performance, the categories visitors may buy, in their order, inside an open `uow`."""
    found = uow.price_categories.for_performances(performance_ids)
    return {
        performance_id: [c for c in in_order(categories) if c.public]
        for performance_id, categories in found.items()
    }


THIS_WEEK = timedelta(days=7)


@attrs.frozen(kw_only=True)
class AgendaFilter:
    """What the visitor narrowed the agenda to; every field empty shows everything."""

    month: str = ""  # "2026-12", in Mierlo's calendar
    genre: str = ""
    this_week: bool = False  # from now until seven days from now


@attrs.frozen(kw_only=True)
class AgendaMonth:
    month: str  # "2026-12"
    first: datetime  # the month's first performance shown, for its heading
    listings: list[ShowListing]


@attrs.frozen(kw_only=True)
class Agenda:
    months: list[AgendaMonth]
    month_choices: list[tuple[str, datetime]]  # every month with something to come
    genres: list[str]  # every genre with something to come, alphabetical


def month_of(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m")


def agenda(uow: UnitOfWork, now: datetime, wanted: AgendaFilter | None = None) -> Agenda:
    """The upcoming programme by month; a show playing in two months is listed in both."""
    wanted = wanted or AgendaFilter()
    listings = upcoming_shows(uow, now)
    month_choices: dict[str, datetime] = {}
    genres = set()
    for listing in listings:
        if listing.show.genre:
            genres.add(listing.show.genre)
        for performance in listing.performances:
            month_choices.setdefault(month_of(performance.starts_at), performance.starts_at)

    def shown(show: Show, performance: Performance) -> bool:
        if wanted.genre and show.genre.casefold() != wanted.genre.casefold():
            return False
        if wanted.month and month_of(performance.starts_at) != wanted.month:
            return False
        return not (wanted.this_week and performance.starts_at > now + THIS_WEEK)

    per_month: dict[str, dict[uuid.UUID, list[Performance]]] = defaultdict(dict)
    shows: dict[uuid.UUID, Show] = {}
    categories: dict[uuid.UUID, list[PriceCategory]] = {}
    for listing in listings:
        shows[listing.show.id] = listing.show
        categories |= listing.categories
        for performance in listing.performances:
            if shown(listing.show, performance):
                month = per_month[month_of(performance.starts_at)]
                month.setdefault(listing.show.id, []).append(performance)
    months = [
        AgendaMonth(
            month=month,
            first=min(p.starts_at for ps in by_show.values() for p in ps),
            listings=sorted(
                (
                    ShowListing(
                        show=shows[i],
                        performances=ps,
                        categories={p.id: categories.get(p.id, []) for p in ps},
                    )
                    for i, ps in by_show.items()
                ),
                key=lambda listing: listing.first_date,
            ),
        )
        for month, by_show in sorted(per_month.items())
    ]
    return Agenda(
        months=months,
        month_choices=sorted(month_choices.items()),
        genres=sorted(genres, key=str.casefold),
    )


@attrs.frozen(kw_only=True)
class ShowPage:
    show: Show
    upcoming: list[Performance]  # published and still to come, sold out ones included
    # Per performance, the categories visitors may buy (public ones), in their order.
    categories: dict[uuid.UUID, list[PriceCategory]] = attrs.field(factory=dict)
    # Those of `upcoming` whose waiting list takes entries, and those that sell numbered seats.
    waitlists_open: frozenset[uuid.UUID] = frozenset()
    numbered: frozenset[uuid.UUID] = frozenset()

    def categories_of(self, performance: Performance) -> list[PriceCategory]:
        return self.categories.get(performance.id, [])

    @property
    def sellable(self) -> list[Performance]:
        return [p for p in self.upcoming if not p.sold_out]


def show_page(uow: UnitOfWork, now: datetime, slug: str) -> ShowPage:
    """A show with its published performances still to come, soonest first: all the show
    page reads, in one transaction (the page is the one every visitor of a sale opens)."""
    with uow:
        show = uow.shows.get_by_slug(slug)
        if show is None:
            raise NotFound(slug=slug)
        performances = uow.performances.for_show(show.id)
        upcoming = [
            p for p in performances if p.status is PerformanceStatus.PUBLISHED and p.starts_at > now
        ]
        ids = [p.id for p in upcoming]
        categories = public_categories(uow, ids)
        waitlists_open = frozenset(i for i in ids if uow.waitlists.get(i).enabled)
        numbered = frozenset(i for i in ids if uow.seating.plan_of(i) is not None)
    return ShowPage(
        show=show,
        upcoming=sorted(upcoming, key=lambda p: p.starts_at),
        categories=categories,
        waitlists_open=waitlists_open,
        numbered=numbered,
    )


def performance_of(uow: UnitOfWork, slug: str, performance_id: uuid.UUID) -> ShowListing:
    """One published performance of a show (for its calendar file); NotFound otherwise."""
    with uow:
        show = uow.shows.get_by_slug(slug)
        performance = uow.performances.get(performance_id)
    if (
        show is None
        or performance is None
        or performance.show_id != show.id
        or performance.status is not PerformanceStatus.PUBLISHED
    ):
        raise NotFound(slug=slug)
    return ShowListing(show=show, performances=[performance])

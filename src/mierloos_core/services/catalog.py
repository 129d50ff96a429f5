"""What visitors can see and buy: upcoming shows and their sellable performances."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

import attrs

from mierloos_core.errors import NotFound
from mierloos_core.model.catalog import Performance, Show
from mierloos_core.ports import UnitOfWork


@attrs.frozen(kw_only=True)
class ShowListing:
    show: Show
    performances: list[Performance]  # published and still to come, soonest first

    @property
    def first_date(self) -> datetime:
        return self.performances[0].starts_at

    @property
    def sold_out(self) -> bool:
        return all(p.sold_out for p in self.performances)


def upcoming_shows(uow: UnitOfWork, now: datetime) -> list[ShowListing]:
    """Shows with at least one published performance still to come, by their first date."""
    with uow:
        per_show: dict[uuid.UUID, list[Performance]] = defaultdict(list)
        for performance in uow.performances.upcoming(now):
            per_show[performance.show_id].append(performance)
        listings = []
        for show_id, performances in per_show.items():
            show = uow.shows.get(show_id)
            if show is not None:
                listings.append(ShowListing(show=show, performances=performances))
    return sorted(listings, key=lambda listing: listing.first_date)


@attrs.frozen(kw_only=True)
class ShowPage:
    show: Show
    sellable: list[Performance]


def show_page(uow: UnitOfWork, now: datetime, slug: str) -> ShowPage:
    """A show with only the performances that can be booked right now."""
    with uow:
        show = uow.shows.get_by_slug(slug)
        if show is None:
            raise NotFound(slug=slug)
        performances = uow.performances.for_show(show.id)
    return ShowPage(show=show, sellable=[p for p in performances if p.is_available(now)])

"""What the benchmarks share; they never import the test suite.

Scripts put `src` on the import path before they import this module.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta

import attrs
import psycopg

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.services.price_categories import add_categories

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    """MIERLOOS_BENCH_DATABASE_URL (a URL allowed to create databases), or the local server."""
    return os.environ.get("MIERLOOS_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A database of the bench's own on the server at `admin_url`, dropped afterwards."""
    name = f"mierloos_bench_{uuid.uuid4().hex[:12]}"
    libpq = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{libpq.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def migrated_database(admin_url: str) -> Iterator[str]:
    """`fresh_database` with the schema migrated to the head."""
    with fresh_database(admin_url) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        yield url


@attrs.frozen(kw_only=True)
class ExtraCategory:
    name: str
    price_cents: int
    limit: int | None = None


@attrs.frozen(kw_only=True)
class OnSale:
    show: Show
    performance: Performance
    categories: list[PriceCategory]  # the regular one first, then the extras in their order


def performance_on_sale(
    url: str,
    *,
    seats: int,
    title: str,
    price_cents: int,
    extras: Sequence[ExtraCategory] = (),
) -> OnSale:
    """A published show with one performance of `seats` seats, a month ahead, its regular
    price category and the `extras`, written through the repositories as the site does."""
    clock = SystemClock()
    show = Show(title=title, slug=f"{title.lower()}-{uuid.uuid4().hex[:8]}")
    performance = Performance(
        show_id=show.id,
        starts_at=clock.now() + timedelta(days=30),
        price=Money(price_cents),
        capacity=seats,
        available_seats=seats,
        status=PerformanceStatus.PUBLISHED,
    )
    engine = make_engine(url)
    try:
        with SqlUnitOfWork(engine, clock) as uow:
            uow.shows.add(show)
            uow.performances.add(performance)
            categories = add_categories(uow, performance)
            for position, extra in enumerate(extras, start=len(categories)):
                category = PriceCategory(
                    performance_id=performance.id,
                    name_nl=extra.name,
                    name_en=extra.name,
                    price=Money(extra.price_cents),
                    limit=extra.limit,
                    available=extra.limit,
                    position=position,
                )
                uow.price_categories.add(category)
                categories.append(category)
            uow.commit()
    finally:
        engine.dispose()
    return OnSale(show=show, performance=performance, categories=categories)

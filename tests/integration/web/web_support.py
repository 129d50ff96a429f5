"""Building the site for HTTP tests: a SQLite file, demo data, and steerable fakes."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mierloos_adapters.memory import FixedClock, MemoryPaymentGateway
from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import make_engine
from mierloos_adapters.sqlalchemy.tables import metadata
from mierloos_core.model.accounts import Role
from mierloos_core.model.catalog import Performance
from mierloos_core.ports import PaymentGateway
from mierloos_entrypoints.config import Settings, WorkerSettings
from mierloos_entrypoints.container import Container, build_container
from mierloos_entrypoints.demo import load_demo_data
from mierloos_entrypoints.web.app import create_app

BASE_URL = "http://testserver"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def migrated_database(directory: Path) -> Path:
    path = directory / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def settings_for(var_dir: Path, base_url: str = BASE_URL) -> Settings:
    return Settings(
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir / 'mierloos.db'}",
        base_url=base_url,
        secret_key="test-secret-key-" + "x" * 40,
        s3=None,
        smtp=None,
        mollie_api_key=None,
        mollie_api_endpoint=None,
        worker=WorkerSettings(polling_interval=1.0, max_attempts=5),
        order_ttl_minutes=15,
        embedded_worker=False,
        sender="Ons Mierloos Theater <kaarten@localhost>",
    )


@dataclass
class Site:
    """The app under test with its container, clock and payment provider."""

    app: Starlette
    container: Container
    clock: FixedClock
    gateway: PaymentGateway

    def client(self, **kwargs: Any) -> TestClient:
        kwargs.setdefault("follow_redirects", False)
        return TestClient(self.app, base_url=BASE_URL, **kwargs)

    def performances(self, slug: str) -> list[Performance]:
        with self.container.uow() as uow:
            show = uow.shows.get_by_slug(slug)
            assert show is not None
            return sorted(uow.performances.for_show(show.id), key=lambda p: p.starts_at)

    def edit_show(self, slug: str, **changes: Any) -> None:
        """Change a demo show's fields, as staff would through the admin."""
        with self.container.uow() as uow:
            show = uow.shows.get_by_slug(slug)
            assert show is not None
            for name, value in changes.items():
                setattr(show, name, value)
            uow.shows.update(show)
            uow.commit()

    def performance(self, performance_id: uuid.UUID) -> Performance:
        with self.container.uow() as uow:
            found = uow.performances.get(performance_id)
        assert found is not None
        return found

    def count(self, table: str, **where: Any) -> int:
        columns = metadata.tables[table].c
        query = select(func.count()).select_from(metadata.tables[table])
        for name, value in where.items():
            query = query.where(columns[name] == value)
        with self.container.engine().connect() as connection:
            return int(connection.execute(query).scalar_one())

    def jobs(self, job_type: str) -> list[Any]:
        with self.container.uow() as uow:
            return uow.jobs.list(job_type=job_type)


def build_site(
    var_dir: Path,
    template_db: Path,
    *,
    gateway: PaymentGateway | None = None,
    clock: FixedClock | None = None,
    demo: bool = True,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = BASE_URL,
    migrate: bool = False,
    **settings: Any,
) -> Site:
    """The site; `settings` replace fields of the test settings (e.g. checkouts_per_client)."""
    shutil.copy(template_db, var_dir / "mierloos.db")
    container = build_container(attrs.evolve(settings_for(var_dir, base_url), **settings))
    if migrate:  # another database than the copied SQLite file (database_url=...)
        upgrade(container.engine())
    clock = clock or FixedClock(START)
    gateway = gateway if gateway is not None else MemoryPaymentGateway()
    container.clock.override(clock)
    container.payment_gateway.override(gateway)
    if demo:
        load_demo_data(container.uow, clock.now())
    app = create_app(container, webhook_transport=webhook_transport)
    return Site(app=app, container=container, clock=clock, gateway=gateway)


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


TOKEN_PAGE = "/voorstellingen/gebroeders-mierlo"


def session_token(client: TestClient, page: str = TOKEN_PAGE) -> str:
    """The CSRF token of the client's session, read from a page with a form."""
    response = client.get(page)
    assert response.status_code == 200
    return csrf_token(response.text)


def add_to_cart(
    client: TestClient,
    performance_id: uuid.UUID | str,
    quantity: int | str = 1,
    *,
    token_page: str = TOKEN_PAGE,
) -> httpx.Response:
    return client.post(
        "/winkelwagen/toevoegen",
        data={
            "csrf_token": session_token(client, token_page),
            "performance_id": str(performance_id),
            "quantity": str(quantity),
        },
    )


def checkout_form(client: TestClient) -> dict[str, str]:
    """The hidden fields of the checkout form (token and cart fingerprint)."""
    response = client.get("/afrekenen")
    assert response.status_code == 200, response.text
    version = re.search(r'name="cart_version" value="([^"]+)"', response.text)
    assert version is not None
    return {"csrf_token": csrf_token(response.text), "cart_version": version.group(1)}


def check_out(client: TestClient, **fields: str) -> httpx.Response:
    data = {"name": "Jan Jansen", "email": "jan@example.nl", "coupon": ""}
    data.update(checkout_form(client))
    data.update(fields)
    return client.post("/afrekenen", data=data)


def iter_forms(html: str) -> Iterator[str]:
    yield from re.findall(r"<form\b.*?</form>", html, flags=re.S)


def log_in(
    client: TestClient, email: str, password: str, *, next_page: str | None = None
) -> httpx.Response:
    """Log in through the login form; the client's cookies then carry the session."""
    form = client.get("/account/inloggen")
    data = {"csrf_token": csrf_token(form.text), "email": email, "password": password}
    if next_page is not None:
        data["next"] = next_page
    return client.post("/account/inloggen", data=data)


STAFF_PASSWORD = "kassa-wachtwoord-2026"


def log_in_as_staff(
    site: Site, client: TestClient, email: str = "kassa@example.org", role: Role = Role.ADMIN
) -> None:
    """Create (or reuse) a staff account with `role` and log `client` in with it."""
    site.container.accounts().create_staff(email, "Kassa", STAFF_PASSWORD, role=role)
    answer = log_in(client, email, STAFF_PASSWORD)
    assert answer.status_code == 303, answer.text

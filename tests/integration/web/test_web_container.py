"""The container is the one composition root: what a test overrides there is what a request,
and the worker's handlers, meet."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import anyio.to_thread
import attrs
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from mierloos_adapters.memory import FixedClock, MemoryPaymentGateway
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.errors import DependencyUnavailable
from mierloos_core.model.jobs import JobType
from mierloos_core.services.jobs import JobRegistry
from mierloos_entrypoints.container import Container, build_container, register_job_handlers
from mierloos_entrypoints.demo import load_demo_data
from mierloos_entrypoints.web.app import create_app
from tests.integration.web.web_support import BASE_URL, START, add_to_cart, check_out, settings_for

LATER = START + timedelta(days=3, hours=2)


def overridden_container(tmp_path: Path, template_db: Path) -> Container:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    shutil.copy(template_db, var_dir / "mierloos.db")
    return build_container(settings_for(var_dir))


def test_an_overridden_payment_gateway_and_clock_reach_a_checkout(
    tmp_path: Path, web_template_db: Path
) -> None:
    container = overridden_container(tmp_path, web_template_db)
    gateway = MemoryPaymentGateway()
    container.payment_gateway.override(gateway)
    container.clock.override(FixedClock(LATER))
    load_demo_data(container.uow, LATER)

    with TestClient(create_app(container), base_url=BASE_URL, follow_redirects=False) as client:
        with container.uow() as uow:
            show = uow.shows.get_by_slug("gebroeders-mierlo")
            assert show is not None
            performance = uow.performances.for_show(show.id)[0]
        add_to_cart(client, performance.id, 1)
        answer = check_out(client)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("https://pay.example/")
    assert gateway.create_calls == 1
    with container.engine().connect() as connection:
        created = connection.execute(select(t.orders.c.created_at)).scalar_one()
    assert created == LATER


def test_an_overridden_payment_gateway_reaches_the_job_handlers(
    tmp_path: Path, web_template_db: Path
) -> None:
    container = overridden_container(tmp_path, web_template_db)
    gateway = MemoryPaymentGateway()
    gateway.down = True
    container.payment_gateway.override(gateway)
    registry = JobRegistry()
    register_job_handlers(registry, container)

    with pytest.raises(DependencyUnavailable):
        registry.run(JobType.PAYMENT_CANCEL, {"provider_payment_id": "tr_unknown"})

    assert gateway.cancel_calls == 1


def test_the_web_process_runs_blocking_work_on_web_threads_threads(
    tmp_path: Path, web_template_db: Path
) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    shutil.copy(web_template_db, var_dir / "mierloos.db")
    container = build_container(attrs.evolve(settings_for(var_dir), web_threads=3))
    container.payment_gateway.override(MemoryPaymentGateway())
    seen: list[int] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
        yield

    with TestClient(create_app(container, lifespan=lifespan), base_url=BASE_URL) as client:
        assert client.get("/").status_code == 200
        tokens = client.portal.call(  # type: ignore[union-attr]
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
    # Set before the app's own lifespan (the embedded worker) starts, and kept.
    assert seen == [3]
    assert tokens == 3

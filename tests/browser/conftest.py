"""A real uvicorn server with the embedded setup, and Debian's Chromium driven by Playwright.

Each test gets its own server on 127.0.0.1 over a fresh ./var (SQLite, local files, the fake
payment provider, demo data). Its clock is the real one plus an offset the test may move.
Chromium must be installed (`apt-get install chromium`): without it these tests fail.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from mierloos_adapters.migrations import upgrade
from mierloos_entrypoints.config import load_settings
from mierloos_entrypoints.container import Container, build_container
from mierloos_entrypoints.demo import load_demo_data
from mierloos_entrypoints.web.app import create_app

CHROMIUM = os.environ.get("MIERLOOS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class ShiftedClock:
    """The real time, moved by `offset`; tests move it to make cart lines expire."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class LiveSite:
    base_url: str
    container: Container
    clock: ShiftedClock

    def url(self, path: str = "/") -> str:
        return self.base_url + path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[LiveSite]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        {
            "MIERLOOS_VAR_DIR": str(tmp_path / "var"),
            "BASE_URL": base_url,
            "MIERLOOS_EMBEDDED_WORKER": "0",
        }
    )
    assert settings.is_embedded
    container = build_container(settings)
    clock = ShiftedClock()
    container.clock.override(clock)
    upgrade(container.engine())
    load_demo_data(container.uow, clock.now())
    app = create_app(container)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web server did not start", pytrace=False)
        time.sleep(0.02)
    try:
        yield LiveSite(base_url=base_url, container=container, clock=clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.engine().dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install "
            "chromium) or set MIERLOOS_CHROMIUM. Browser tests are never skipped.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale="nl-NL", timezone_id="Europe/Amsterdam")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Keep the final page of a test under test-artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

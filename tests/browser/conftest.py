"""A real uvicorn server with the embedded setup, and Chromium driven by Playwright.

Each test gets its own server on 127.0.0.1 over a fresh ./var (SQLite, local files, the fake
payment provider, demo data). Its clock is the real one plus an offset the test may move.
The browser is MIERLOOS_CHROMIUM (default Debian's /usr/bin/chromium) when that exists, else
Playwright's own Chromium, which the fixture installs when it is missing. Where that download
is impossible the tests fail with the command to run: they are never skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserType, Page, sync_playwright

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


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[LiveSite]:
    # The server is handed this bound socket: no other process (a parallel test worker) can take
    # the port between choosing it and listening on it.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
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
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True
    )
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
        listener.close()
        container.engine().dispose()


def _chromium_executable(chromium: BrowserType) -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    own = chromium.executable_path
    if not Path(own).exists():
        install = [sys.executable, "-m", "playwright", "install", "chromium"]
        try:
            done = subprocess.run(install, capture_output=True, timeout=600).returncode == 0
        except subprocess.TimeoutExpired:
            done = False
        if not done or not Path(own).exists():
            pytest.fail(
                f"no Chromium at {CHROMIUM} and Playwright's could not be downloaded: run "
                "`python -m playwright install chromium` (or set MIERLOOS_CHROMIUM)",
                pytrace=False,
            )
    return own


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        executable = _chromium_executable(playwright.chromium)
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
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

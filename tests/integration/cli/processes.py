"""`mierloos` commands as real processes, and a visitor who buys a ticket over HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from mierloos_adapters.sqlalchemy import make_engine
from mierloos_adapters.sqlalchemy.tables import orders

ROOT = Path(__file__).resolve().parents[3]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def order_id(var_dir: Path, buyer: str) -> str:
    engine = make_engine(f"sqlite:///{var_dir / 'mierloos.db'}")
    try:
        with engine.connect() as connection:
            found = connection.execute(select(orders.c.id).where(orders.c.email == buyer)).scalar()
    finally:
        engine.dispose()
    assert found is not None, "the order is in the database"
    return str(found)


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {condition}")
        time.sleep(interval)


def command_env(**env: str) -> dict[str, str]:
    """This environment without any mierloos setting of the caller's, plus `env`."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DATABASE_", "R2_", "S3_", "SMTP_", "MOLLIE_", "MIERLOOS_", "WORKER_")
        )
        and key not in ("BASE_URL", "SECRET_KEY", "PORT", "METRICS_TOKEN")
    }
    return {
        **inherited,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PYTHONUNBUFFERED": "1",
        **env,
    }


class MierloosProcess:
    """`mierloos ARGS...` running in the background, its output in a log file."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path,
        program: tuple[str, ...] = (sys.executable, "-m", "mierloos_entrypoints.cli"),
    ) -> None:
        self.log_path = log_path
        self.log_file = log_path.open("ab")
        self.process = subprocess.Popen(
            [*program, *args],
            cwd=cwd,
            env=dict(env),
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def answers(self, url: str) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the process exited early:\n{self.log()}")
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_answering(self, url: str, timeout: float = 20) -> None:
        wait_for(lambda: self.answers(url), timeout)

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM, then wait for the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log_file.close()


def _token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    assert response.status_code == status, (response.status_code, response.text[:2000])
    return response


def buy_one_ticket(
    base_url: str, email: str, show: str = "/voorstellingen/gebroeders-mierlo"
) -> str:
    """Home, show, cart, checkout, the fake provider's pay button: the order page's URL."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=15) as browser:
        home = _expect(browser.get("/"), 200)
        assert f'href="{show}"' in home.text, "the home page links to the show"
        page = _expect(browser.get(show), 200)
        performance = re.search(r'name="performance_id" value="([^"]+)"', page.text)
        assert performance is not None, "the show has a bookable performance"
        _expect(
            browser.post(
                "/winkelwagen/toevoegen",
                data={
                    "csrf_token": _token(page.text),
                    "performance_id": performance.group(1),
                    "quantity": "1",
                },
            ),
            303,
        )
        form = _expect(browser.get("/afrekenen"), 200)
        version = re.search(r'name="cart_version" value="([^"]+)"', form.text)
        assert version is not None
        placed = _expect(
            browser.post(
                "/afrekenen",
                data={
                    "csrf_token": _token(form.text),
                    "cart_version": version.group(1),
                    "name": "Jan Jansen",
                    "email": email,
                    "coupon": "",
                },
            ),
            303,
        )
        payment_page = placed.headers["location"]
        assert payment_page.startswith(base_url + "/fake-payments/"), payment_page
        provider = _expect(browser.get(payment_page), 200)
        paid = _expect(
            browser.post(
                payment_page, data={"csrf_token": _token(provider.text), "action": "paid"}
            ),
            303,
        )
        order_page = paid.headers["location"]
        _expect(browser.get(order_page), 200)
    return str(httpx.URL(base_url).join(order_page))

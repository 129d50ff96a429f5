"""A basic accessibility check over every page: labels, alt text, headings, forms, language."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import attrs
import httpx
import pytest
from starlette.testclient import TestClient

from mierloos_adapters.fake_payments import FakePaymentProvider
from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.payments import PaymentStatus
from tests.integration.web.web_support import (
    BASE_URL,
    Site,
    add_to_cart,
    check_out,
    csrf_token,
    log_in_as_staff,
)

_FIELDS = {"input", "select", "textarea"}
_NOT_LABELLED = {"hidden", "submit", "button", "reset", "image"}


@attrs.define
class _Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    inside_label: bool = False
    form: int | None = None


class Audit(HTMLParser):
    """Collects what the checks need in one pass over a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.headings: list[int] = []
        self.elements: list[_Element] = []
        self.label_for: set[str] = set()
        self.ids: list[str] = []
        self.forms: list[list[_Element]] = []
        self._open: list[_Element] = []
        self._label_depth = 0
        self._form: int | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attributes}
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "html":
            self.lang = values.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "label":
            self._label_depth += 1
            if "for" in values:
                self.label_for.add(values["for"])
        if tag == "form":
            self.forms.append([])
            self._form = len(self.forms) - 1
        element = _Element(tag, values, inside_label=self._label_depth > 0, form=self._form)
        self.elements.append(element)
        if self._form is not None:
            self.forms[self._form].append(element)
        if tag not in {"input", "img", "meta", "link", "br", "hr"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1
        if tag == "form":
            self._form = None
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def accessibility_problems(html: str) -> list[str]:
    audit = Audit()
    audit.feed(html)
    problems = []
    if audit.lang != "nl":
        problems.append(f"html lang is {audit.lang!r}, not 'nl'")
    if audit.headings.count(1) != 1:
        problems.append(f"{audit.headings.count(1)} h1 headings")
    if audit.headings and audit.headings[0] != 1:
        problems.append("the first heading is not an h1")
    for before, after in zip(audit.headings, audit.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading skips from h{before} to h{after}")
    duplicates = {i for i in audit.ids if audit.ids.count(i) > 1}
    if duplicates:
        problems.append(f"duplicate ids {sorted(duplicates)}")
    mains = [e for e in audit.elements if e.tag == "main"]
    if len(mains) != 1:
        problems.append("no single <main>")
    elif not any(
        e.tag == "a" and e.attrs.get("href") == "#" + mains[0].attrs.get("id", "")
        for e in audit.elements
    ):
        problems.append("no skip link to <main>")
    for element in audit.elements:
        attrs_ = element.attrs
        if element.tag in _FIELDS and attrs_.get("type", "text") not in _NOT_LABELLED:
            labelled = (
                attrs_.get("id") in audit.label_for
                or element.inside_label
                or attrs_.get("aria-label", "").strip()
                or attrs_.get("aria-labelledby", "").strip()
            )
            if not labelled:
                problems.append(f"<{element.tag} name={attrs_.get('name')!r}> has no label")
        if element.tag == "img" and "alt" not in attrs_:
            problems.append(f"<img src={attrs_.get('src')!r}> has no alt")
        if element.tag in {"a", "button"} and not (
            element.text.strip() or attrs_.get("aria-label", "").strip()
        ):
            problems.append(f"<{element.tag}> without text")
        if element.tag == "a" and "href" not in attrs_:
            problems.append("<a> without href is not keyboard-usable")
        if (
            attrs_.get("tabindex", "0").lstrip("-").isdigit()
            and int(attrs_.get("tabindex", "0")) > 0
        ):
            problems.append("positive tabindex breaks the keyboard order")
    for index, form in enumerate(audit.forms):
        submits = [
            e
            for e in form
            if (e.tag == "button" and e.attrs.get("type", "submit") == "submit")
            or (e.tag == "input" and e.attrs.get("type") == "submit")
        ]
        if not submits:
            problems.append(f"form #{index} has no submit button")
    return problems


def _secret(site: Site) -> str:
    with site.container.engine().connect() as connection:
        from sqlalchemy import text

        return str(connection.execute(text("SELECT secret FROM orders")).scalars().all()[-1])


def _memory_pages(site: Site) -> dict[str, httpx.Response]:
    pages: dict[str, httpx.Response] = {}
    gateway = site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    with site.client(raise_server_exceptions=False) as client:
        pages["home"] = client.get("/")
        for slug in ("gebroeders-mierlo", "zwanenmeer", "jazz-op-zondag", "cabaret-uitverkocht"):
            pages[f"show {slug}"] = client.get(f"/voorstellingen/{slug}")
        pages["empty cart"] = client.get("/winkelwagen")
        first, second = site.performances("gebroeders-mierlo")[:2]
        add_to_cart(client, first.id, 2)
        add_to_cart(client, second.id, 1)
        pages["cart"] = client.get("/winkelwagen")
        pages["checkout"] = client.get("/afrekenen")
        pages["checkout with an error"] = check_out(client, email="fout")
        pages["add refused"] = add_to_cart(
            client, next(p for p in site.performances("zwanenmeer") if p.sold_out).id, 1
        )
        check_out(client)
        secret = _secret(site)
        pages["order pending"] = client.get(f"/bestelling/{secret}")
        gateway.down = True
        add_to_cart(client, first.id, 1)
        check_out(client)
        pages["order without payment"] = client.get(f"/bestelling/{_secret(site)}")
        gateway.down = False
        gateway.set_status(next(iter(gateway.payments)), PaymentStatus.PAID)
        pages["order paid"] = client.get(f"/bestelling/{secret}")
        pages["not found"] = client.get("/nergens")
        pages["forbidden"] = client.post("/winkelwagen/toevoegen", data={"quantity": "1"})
    return pages


def test_every_visitor_page_passes(site: Site) -> None:
    pages = _memory_pages(site)
    # A cart whose only line has started: shown in red, checkout disabled.
    with site.client() as client:
        add_to_cart(client, site.performances("jazz-op-zondag")[-1].id, 1)
        site.clock.set(site.performances("jazz-op-zondag")[-1].starts_at)
        pages["cart with nothing valid"] = client.get("/winkelwagen")

    statuses = {name: page.status_code for name, page in pages.items()}
    expected_errors = {
        "checkout with an error": 422,
        "add refused": 409,
        "not found": 404,
        "forbidden": 403,
    }
    assert statuses == {name: expected_errors.get(name, 200) for name in pages}
    assert "Bestelling" in pages["order without payment"].text
    failures = {name: accessibility_problems(page.text) for name, page in pages.items()}
    assert {name: found for name, found in failures.items() if found} == {}


def test_the_fake_payment_pages_pass(make_site: Callable[..., Site], tmp_path: Path) -> None:
    site = make_site(gateway=FakePaymentProvider(tmp_path / "fake", base_url=BASE_URL))
    site.app.state.webhook_transport = httpx.ASGITransport(app=site.app)
    with site.client() as client:
        add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
        path = check_out(client).headers["location"].removeprefix(BASE_URL)
        open_page = client.get(path)
        client.post(path, data={"csrf_token": csrf_token(open_page.text), "action": "canceled"})
        closed_page = client.get(path)
        cancelled_order = client.get(f"/bestelling/{_secret(site)}")

    for page in (open_page, closed_page, cancelled_order):
        assert page.status_code == 200
        assert accessibility_problems(page.text) == []


def test_the_error_page_for_a_crash_passes(site: Site) -> None:
    class Broken:
        def now(self) -> None:
            raise RuntimeError("boom")

    site.app.state.services = attrs.evolve(site.app.state.services, clock=Broken())
    with TestClient(site.app, raise_server_exceptions=False) as client:
        page = client.get("/")

    assert page.status_code == 500
    assert accessibility_problems(page.text) == []


def test_the_staff_job_and_order_pages_pass(site: Site) -> None:
    with site.client() as buyer:
        add_to_cart(buyer, site.performances("gebroeders-mierlo")[0].id, 2)
        check_out(buyer)
    gateway = site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    gateway.set_status(next(iter(gateway.payments)), PaymentStatus.PAID)
    secret = _secret(site)
    with site.client() as buyer:
        buyer.get(f"/bestelling/{secret}")
    with site.container.uow() as uow:
        order = uow.orders.get_by_secret(secret)
        job = uow.jobs.list()[-1]
    assert order is not None
    pages: dict[str, httpx.Response] = {}
    with site.client() as staff:
        log_in_as_staff(site, staff)
        for path in (
            "/beheer/taken",
            "/beheer/taken?status=pending",
            f"/beheer/taken/{job.id}",
            "/beheer/bestellingen",
            f"/beheer/bestellingen?q={order.number}&aandacht=1",
            f"/beheer/bestellingen/{order.id}",
        ):
            pages[path] = staff.get(path)

    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(pages, 200)
    failures = {path: accessibility_problems(page.text) for path, page in pages.items()}
    assert {path: found for path, found in failures.items() if found} == {}


def test_the_staff_catalogue_and_coupon_pages_pass(site: Site) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    show = f"/beheer/voorstellingen/{performance.show_id}"
    with site.container.uow() as uow:
        coupon = uow.coupons.get_by_code("WELKOM10")
    assert coupon is not None
    pages: dict[str, httpx.Response] = {}
    with site.client() as staff:
        log_in_as_staff(site, staff)
        for path in (
            "/beheer/voorstellingen",
            "/beheer/voorstellingen/nieuw",
            show,
            f"/beheer/uitvoeringen/{performance.id}",
            "/beheer/kortingscodes",
            "/beheer/kortingscodes/nieuw",
            f"/beheer/kortingscodes/{coupon.id}",
        ):
            pages[path] = staff.get(path)
        token = csrf_token(pages[show].text)
        pages["show form with errors"] = staff.post(
            "/beheer/voorstellingen/nieuw", data={"csrf_token": token, "title": ""}
        )
        pages["performance form with errors"] = staff.post(
            f"{show}/uitvoeringen", data={"csrf_token": token, "price": "-1"}
        )
        pages["refused status change"] = staff.post(
            f"/beheer/uitvoeringen/{performance.id}/publiceren", data={"csrf_token": token}
        )
        pages["refused image"] = staff.post(
            f"{show}/afbeelding",
            data={"csrf_token": token},
            files={"afbeelding": ("tekst.jpg", b"geen afbeelding", "image/jpeg")},
        )
        pages["coupon form with errors"] = staff.post(
            "/beheer/kortingscodes/nieuw", data={"csrf_token": token, "kind": "x"}
        )

    expected = {
        "show form with errors": 422,
        "performance form with errors": 422,
        "refused status change": 409,
        "refused image": 422,
        "coupon form with errors": 422,
    }
    statuses = {path: page.status_code for path, page in pages.items()}
    assert statuses == {path: expected.get(path, 200) for path in pages}
    failures = {path: accessibility_problems(page.text) for path, page in pages.items()}
    assert {path: found for path, found in failures.items() if found} == {}


def _page(body: str, lang: str = "nl", skip: bool = True) -> str:
    link = '<a href="#m">Naar de inhoud</a>' if skip else ""
    return f'<html lang="{lang}">{link}<main id="m">{body}</main></html>'


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        (_page("<h1>x</h1>", lang="en"), "lang"),
        (_page("<h1>a</h1><h3>b</h3>"), "skips"),
        (_page("<h1>a</h1><h1>b</h1>"), "h1"),
        (_page('<h1>a</h1><input name="q">'), "no label"),
        (_page('<h1>a</h1><img src="x">'), "alt"),
        (_page('<h1>a</h1><form><label for="q">Q</label><input id="q" name="q"></form>'), "submit"),
        (_page("<h1>a</h1><button></button>"), "without text"),
        (_page("<h1>a</h1>", skip=False), "skip link"),
    ],
)
def test_the_check_itself_finds_problems(html: str, problem: str) -> None:
    assert any(problem in found for found in accessibility_problems(html))

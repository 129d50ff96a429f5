"""Staff's order pages over HTTP: search, detail, resend tickets, mark handled, the refund form."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.jobs import JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.model.payments import PaymentStatus
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import (
    STAFF_PASSWORD,
    Site,
    add_to_cart,
    check_out,
    csrf_token,
    log_in,
    log_in_as_staff,
)

REFUND_FORM = '<form method="post" action="/beheer/bestellingen/{id}/terugbetalen" class="form">'


def stored_order(
    site: Site,
    email: str = "klant@example.nl",
    name: str = "Klant",
    *,
    status: OrderStatus = OrderStatus.PAID,
    needs_attention: str | None = None,
    minutes: int = 0,
) -> Order:
    created = site.clock.now() + timedelta(minutes=minutes)
    order = Order(
        email=email,
        name=name,
        subtotal=Money(5000),
        discount=Money(0),
        created_at=created,
        expires_at=created + timedelta(minutes=15),
        status=status,
        needs_attention=needs_attention,
    )
    with site.container.uow() as uow:
        uow.orders.add(order)
        uow.commit()
    return order


def paid_order(site: Site, buyer: TestClient, **fields: str) -> Order:
    """An order placed and paid through the site, as a visitor would."""
    add_to_cart(buyer, site.performances("gebroeders-mierlo")[0].id, 2)
    check_out(buyer, **fields)
    gateway = site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    gateway.set_status(list(gateway.payments)[-1], PaymentStatus.PAID)
    with site.container.uow() as uow:
        payment_order = uow.payments.get_by_provider_id(list(gateway.payments)[-1])
        assert payment_order is not None
        order = uow.orders.get(payment_order.order_id)
    assert order is not None
    assert buyer.get(f"/bestelling/{order.secret}").status_code == 200  # asks the provider
    return current(site, order.id)


def current(site: Site, order_id: uuid.UUID) -> Order:
    with site.container.uow() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def numbers_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/beheer/bestellingen/[0-9a-f-]{36}">([A-Z0-9-]+)</a>', html)


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def test_search_finds_by_number_email_and_name(site: Site, staff: TestClient) -> None:
    an = stored_order(site, "an.devries@example.nl", "An de Vries", minutes=1)
    piet = stored_order(site, "piet@voorbeeld.nl", "Piet Janssen", minutes=2)

    by_number = staff.get("/beheer/bestellingen", params={"q": an.number.lower()})
    by_email = staff.get("/beheer/bestellingen", params={"q": "VOORBEELD.nl"})
    by_name = staff.get("/beheer/bestellingen", params={"q": "de vries"})
    everything = staff.get("/beheer/bestellingen")

    assert numbers_listed(by_number.text) == [an.number]
    assert numbers_listed(by_email.text) == [piet.number]
    assert numbers_listed(by_name.text) == [an.number]
    assert numbers_listed(everything.text) == [piet.number, an.number]
    assert "piet@voorbeeld.nl" in by_email.text
    assert accessibility_problems(everything.text) == []


@pytest.mark.parametrize("hostile", ["%", "_", "'", '"', "<script>alert(1)</script>", "\\"])
def test_hostile_search_text_matches_literally_and_is_escaped(
    site: Site, staff: TestClient, hostile: str
) -> None:
    stored_order(site, "gewoon@example.nl", "Gewone Klant")

    page = staff.get("/beheer/bestellingen", params={"q": hostile})

    assert page.status_code == 200
    assert numbers_listed(page.text) == []
    assert "0 bestellingen gevonden" in page.text
    assert "<script>alert(1)" not in page.text


def test_a_name_with_markup_is_found_and_shown_escaped(site: Site, staff: TestClient) -> None:
    order = stored_order(site, "x@example.nl", "<script>alert(1)</script>")

    page = staff.get("/beheer/bestellingen", params={"q": "<script>"})

    assert numbers_listed(page.text) == [order.number]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text


def test_filters_by_attention_and_status_and_pages_newest_first(
    site: Site, staff: TestClient
) -> None:
    flagged = stored_order(site, needs_attention="Betaald nadat de bestelling was vervallen.")
    pending = stored_order(site, status=OrderStatus.PENDING, minutes=1)
    many = [stored_order(site, "veel@example.nl", minutes=10 + n).number for n in range(30)]

    attention = staff.get("/beheer/bestellingen?aandacht=1")
    pending_only = staff.get("/beheer/bestellingen?status=pending")
    first = staff.get("/beheer/bestellingen?q=veel")
    second = staff.get("/beheer/bestellingen?q=veel&pagina=2")

    assert numbers_listed(attention.text) == [flagged.number]
    assert numbers_listed(pending_only.text) == [pending.number]
    assert "30 bestellingen gevonden; pagina 1 van 2." in first.text
    assert numbers_listed(first.text) == many[::-1][:25]
    assert numbers_listed(second.text) == many[::-1][25:]
    assert 'href="/beheer/bestellingen?q=veel&amp;pagina=2"' in first.text


@pytest.mark.parametrize("query", ["status=betaald", "pagina=nul", "pagina=0", "q=" + "x" * 101])
def test_invalid_search_input_is_refused_with_a_message(staff: TestClient, query: str) -> None:
    assert staff.get(f"/beheer/bestellingen?{query}").status_code == 400


def test_the_detail_of_a_paid_order_shows_lines_payment_and_refund_form(
    site: Site, staff: TestClient
) -> None:
    with site.client() as buyer:
        order = paid_order(site, buyer, email="an@example.nl", name="An de Vries")

    page = staff.get(f"/beheer/bestellingen/{order.id}")

    assert page.status_code == 200
    assert f"Bestelling {order.number}" in page.text
    assert "an@example.nl" in page.text
    assert re.search(r"Gebroeders Mierlo.*?2 \u00d7 ", page.text, re.S)
    assert "2 geldig" in page.text
    assert re.search(r"<td>[^<]*</td>\s*<td>Betaald</td>", page.text)  # the payment's events
    assert f'href="http://testserver/bestelling/{order.secret}"' in page.text
    assert "Er zijn nog geen kaarten gemaakt." in page.text
    assert "Kaarten opnieuw versturen" in page.text
    assert REFUND_FORM.format(id=order.id) in page.text
    form = re.search(r'action="/beheer/bestellingen/[^"]+/terugbetalen".*?</form>', page.text, re.S)
    assert form is not None
    assert 'name="csrf_token"' in form.group(0)
    assert re.search(
        r'<label for="terug-bedrag">.*?</label>\s*'
        r'<input type="text" id="terug-bedrag" name="amount"',
        form.group(0),
        re.S,
    )
    assert re.search(r'<input type="text" id="terug-reden" name="reason"', form.group(0))
    assert '<button type="submit">Terugbetalen</button>' in form.group(0)
    assert accessibility_problems(page.text) == []


def test_unpaid_orders_offer_neither_resend_nor_refund(site: Site, staff: TestClient) -> None:
    order = stored_order(site, status=OrderStatus.PENDING)

    page = staff.get(f"/beheer/bestellingen/{order.id}")

    assert page.status_code == 200
    assert "terugbetalen" not in page.text
    assert "Kaarten opnieuw versturen" not in page.text
    assert "Er is (nog) geen betaling aangemaakt." in page.text


def test_unknown_or_malformed_order_ids_are_not_found(staff: TestClient) -> None:
    assert staff.get(f"/beheer/bestellingen/{uuid.uuid4()}").status_code == 404
    assert staff.get("/beheer/bestellingen/OMT-12345678").status_code == 404


def resend(client: TestClient, order_id: uuid.UUID, page: str | None = None) -> Any:
    html = page or client.get(f"/beheer/bestellingen/{order_id}").text
    key = re.search(r'name="request_key" value="([^"]+)"', html)
    assert key is not None
    return client.post(
        f"/beheer/bestellingen/{order_id}/kaarten-versturen",
        data={"csrf_token": csrf_token(html), "request_key": key.group(1)},
    )


def test_resend_without_a_pdf_queues_exactly_one_pdf_job_even_on_a_double_click(
    site: Site, staff: TestClient
) -> None:
    with site.client() as buyer:
        order = paid_order(site, buyer)
    before = {job.id for job in site.jobs(JobType.PDF_GENERATION)}
    mails_before = len(site.jobs(JobType.EMAIL))
    page = staff.get(f"/beheer/bestellingen/{order.id}").text

    first = resend(staff, order.id, page)
    second = resend(staff, order.id, page)

    assert first.status_code == second.status_code == 303
    new = [job for job in site.jobs(JobType.PDF_GENERATION) if job.id not in before]
    assert [job.data for job in new] == [{"order_id": str(order.id)}]
    assert len(site.jobs(JobType.EMAIL)) == mails_before
    assert "De kaarten worden opnieuw gemaakt" in staff.get(first.headers["location"]).text


def test_resend_with_a_pdf_queues_the_tickets_mail_once_per_click(
    site: Site, staff: TestClient
) -> None:
    with site.client() as buyer:
        order = paid_order(site, buyer, email="an@example.nl")
    site.container.tickets().generate_pdf(order.id)
    before = {job.id for job in site.jobs(JobType.EMAIL)}
    page = staff.get(f"/beheer/bestellingen/{order.id}").text
    assert "tickets-1.pdf" in page

    first = resend(staff, order.id, page)
    resend(staff, order.id, page)  # the same form twice: a double click
    assert "opnieuw naar de klant gemaild" in staff.get(first.headers["location"]).text

    new = [job for job in site.jobs(JobType.EMAIL) if job.id not in before]
    assert [(job.data["template"], job.data["to"]) for job in new] == [
        ("tickets_ready", "an@example.nl")
    ]
    resend(staff, order.id)  # a fresh page: staff mean it
    assert len([job for job in site.jobs(JobType.EMAIL) if job.id not in before]) == 2


def test_resend_for_an_unpaid_order_says_why_and_queues_nothing(
    site: Site, staff: TestClient
) -> None:
    order = stored_order(site, status=OrderStatus.CANCELLED)
    token = csrf_token(staff.get("/beheer/bestellingen").text)
    jobs_before = site.count("jobs")

    answer = staff.post(
        f"/beheer/bestellingen/{order.id}/kaarten-versturen",
        data={"csrf_token": token, "request_key": "handmatig-1234"},
    )

    assert answer.status_code == 303
    assert "Alleen voor betaalde bestellingen" in staff.get(answer.headers["location"]).text
    assert site.count("jobs") == jobs_before


def test_marking_handled_clears_the_flag_once(site: Site, staff: TestClient) -> None:
    order = stored_order(site, needs_attention="Kaarten konden niet worden gemaakt: storage")
    page = staff.get(f"/beheer/bestellingen/{order.id}")
    assert "Kaarten konden niet worden gemaakt: storage" in page.text
    assert accessibility_problems(page.text) == []
    token = csrf_token(page.text)

    first = staff.post(f"/beheer/bestellingen/{order.id}/afgehandeld", data={"csrf_token": token})
    again = staff.post(f"/beheer/bestellingen/{order.id}/afgehandeld", data={"csrf_token": token})

    assert first.status_code == again.status_code == 303
    assert current(site, order.id).needs_attention is None
    shown = staff.get(first.headers["location"]).text
    assert "als afgehandeld gemarkeerd" in shown
    assert "vroeg al geen aandacht meer" in shown
    assert numbers_listed(staff.get("/beheer/bestellingen?aandacht=1").text) == []


def test_actions_without_the_csrf_token_are_refused(site: Site, staff: TestClient) -> None:
    order = stored_order(site, needs_attention="Let op")

    handled = staff.post(f"/beheer/bestellingen/{order.id}/afgehandeld", data={})
    resent = staff.post(
        f"/beheer/bestellingen/{order.id}/kaarten-versturen",
        data={"csrf_token": "vals", "request_key": "handmatig-1234"},
    )

    assert handled.status_code == resent.status_code == 403
    assert current(site, order.id).needs_attention == "Let op"


ORDER_ROUTES = [
    ("GET", "/beheer/bestellingen"),
    ("GET", "/beheer/bestellingen/{id}"),
    ("POST", "/beheer/bestellingen/{id}/kaarten-versturen"),
    ("POST", "/beheer/bestellingen/{id}/afgehandeld"),
]


@pytest.mark.parametrize(("method", "path"), ORDER_ROUTES)
def test_visitors_are_sent_to_log_in_and_visitor_accounts_refused(
    site: Site, method: str, path: str
) -> None:
    order = stored_order(site, needs_attention="Let op")
    url = path.format(id=order.id)
    data = {"request_key": "handmatig-1234"}
    with site.client() as anonymous:
        token = csrf_token(anonymous.get("/account/inloggen").text)
        answer = anonymous.request(method, url, data={"csrf_token": token, **data})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/account/inloggen?next=")
    site.container.accounts().register("bezoeker@example.org", "Bezoeker", STAFF_PASSWORD)
    with site.client() as visitor:
        log_in(visitor, "bezoeker@example.org", STAFF_PASSWORD)
        token = csrf_token(visitor.get("/").text)  # from the header's log-out form
        answer = visitor.request(method, url, data={"csrf_token": token, **data})
        assert answer.status_code == 403
        assert order.number not in answer.text
    assert current(site, order.id).needs_attention == "Let op"

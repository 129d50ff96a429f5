"""The counter pages over HTTP: sell, refuse, print, book by phone, mark paid, the day's totals."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from mierloos_core.model.commands import GenerateTickets, SendEmail
from mierloos_core.model.orders import Order, OrderStatus, PaymentMethod, SalesChannel
from mierloos_core.model.price_categories import PriceCategory
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import Site, csrf_token, log_in_as_staff

COUNTER = "/beheer/kassa"


@pytest.fixture
def staff(site: Site) -> TestClient:
    with site.client() as client:
        log_in_as_staff(site, client)
        yield client


def categories(site: Site, performance_id: uuid.UUID) -> list[PriceCategory]:
    with site.container.uow() as uow:
        return uow.price_categories.for_performance(performance_id)


def order(site: Site, order_id: str) -> Order:
    with site.container.uow() as uow:
        found = uow.orders.get(uuid.UUID(order_id))
    assert found is not None
    return found


def order_mails(site: Site) -> list[str]:
    """Whom the queued order e-mails go to (the staff login's own mail left out)."""
    return [job.data["to"] for job in site.jobs(SendEmail.job_type) if job.data.get("order_id")]


def form(staff: TestClient, performance_id: uuid.UUID, **fields: str) -> dict[str, str]:
    page = staff.get(COUNTER, params={"voorstelling": str(performance_id)})
    assert page.status_code == 200
    key = re.search(r'name="request_key" value="([^"]+)"', page.text)
    assert key is not None
    return {
        "csrf_token": csrf_token(page.text),
        "performance": str(performance_id),
        "request_key": key.group(1),
        **fields,
    }


def quantity(category: PriceCategory) -> str:
    return f"aantal-{category.id}"


def sell(staff: TestClient, site: Site, slug: str = "zwanenmeer", **fields: str):
    performance = site.performances(slug)[0]
    regular = categories(site, performance.id)[0]
    data = {quantity(regular): "2", "method": "contant"} | fields
    return staff.post(f"{COUNTER}/verkopen", data=form(staff, performance.id, **data))


def sold_id(response) -> str:
    assert response.status_code == 303, response.text
    found = re.fullmatch(
        r"/beheer/kassa/bestellingen/([0-9a-f-]{36})", response.headers["location"]
    )
    assert found is not None
    return found.group(1)


def test_the_counter_page_lists_performances_and_every_category(site: Site, staff: TestClient):
    performance = site.performances("zwanenmeer")[0]
    page = staff.get(COUNTER, params={"voorstelling": str(performance.id)})
    assert page.status_code == 200
    assert "Vrijkaart" in page.text  # staff-only: sold at the counter
    assert "(alleen kassa)" in page.text
    for category in categories(site, performance.id):
        assert f'name="{quantity(category)}"' in page.text
    assert accessibility_problems(page.text) == []
    # A performance of the past, a cancelled or a draft one is not offered.
    assert str(site.performances("jazz-op-zondag")[0].id) not in page.text


def test_a_cash_sale_is_paid_and_its_tickets_print_at_once(site: Site, staff: TestClient):
    performance = site.performances("zwanenmeer")[0]
    before = site.performance(performance.id).available_seats
    order_id = sold_id(sell(staff, site))

    sold = order(site, order_id)
    assert sold.status is OrderStatus.PAID
    assert sold.sales_channel is SalesChannel.COUNTER
    assert sold.payment_method is PaymentMethod.CASH
    assert len(sold.tickets) == 2
    assert site.performance(performance.id).available_seats == before - 2
    assert len(site.jobs(GenerateTickets.job_type)) == 1
    assert order_mails(site) == []  # no address given: no mail

    page = staff.get(f"{COUNTER}/bestellingen/{order_id}")
    assert page.status_code == 200
    assert sold.number in page.text
    assert accessibility_problems(page.text) == []
    for layout in ("a4", "bon"):
        pdf = staff.get(f"{COUNTER}/bestellingen/{order_id}/kaarten-{layout}.pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
    assert staff.get(f"{COUNTER}/bestellingen/{order_id}/kaarten-a5.pdf").status_code == 404


def test_the_same_form_sent_twice_sells_once(site: Site, staff: TestClient):
    performance = site.performances("zwanenmeer")[0]
    before = site.performance(performance.id).available_seats
    regular = categories(site, performance.id)[0]
    data = form(staff, performance.id, **{quantity(regular): "2", "method": "contant"})
    first = staff.post(f"{COUNTER}/verkopen", data=data)
    again = staff.post(f"{COUNTER}/verkopen", data=data)
    assert sold_id(first) == sold_id(again)
    assert site.count("orders") == 1
    assert site.performance(performance.id).available_seats == before - 2
    missing = {k: v for k, v in data.items() if k != "request_key"}
    assert staff.post(f"{COUNTER}/verkopen", data=missing).status_code == 400
    forged = data | {"request_key": "<script>"}
    assert staff.post(f"{COUNTER}/verkopen", data=forged).status_code == 422
    assert site.count("orders") == 1


def test_a_sale_with_an_address_mails_the_tickets(site: Site, staff: TestClient):
    order_id = sold_id(sell(staff, site, method="pin", email="gast@example.nl", name="Gast"))
    assert order_mails(site) == ["gast@example.nl"]
    assert order(site, order_id).payment_method is PaymentMethod.PIN


def test_staff_only_categories_sell_at_the_counter(site: Site, staff: TestClient):
    performance = site.performances("zwanenmeer")[0]
    comp = next(c for c in categories(site, performance.id) if not c.public)
    data = form(
        staff,
        performance.id,
        **{quantity(comp): "1", "method": "gratis", "free_reason": "Recensent Eindhovens Dagblad"},
    )
    order_id = sold_id(staff.post(f"{COUNTER}/verkopen", data=data))
    sold = order(site, order_id)
    assert sold.free_reason == "Recensent Eindhovens Dagblad"
    assert sold.total.cents == 0


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"method": "gratis"}, 422, "reden"),
        ({"method": "overboeking"}, 400, "betaald"),
        ({"method": "contant", "email": "geen-adres"}, 422, "e-mailadres"),
    ],
)
def test_bad_payment_input_is_refused_and_nothing_sold(
    site: Site, staff: TestClient, fields: dict[str, str], status: int, message: str
):
    performance = site.performances("zwanenmeer")[0]
    before = site.performance(performance.id).available_seats
    response = sell(staff, site, **fields)
    assert response.status_code == status
    assert message in response.text
    assert site.performance(performance.id).available_seats == before
    assert site.count("orders") == 0


@pytest.mark.parametrize(
    ("amount", "status"), [("twee", 400), ("-1", 400), ("0", 422), ("51", 422), ("999", 422)]
)
def test_quantities_are_bounded(site: Site, staff: TestClient, amount: str, status: int):
    performance = site.performances("zwanenmeer")[0]
    regular = categories(site, performance.id)[0]
    response = sell(staff, site, **{quantity(regular): amount})
    assert response.status_code == status
    assert site.count("orders") == 0


def test_a_category_of_another_performance_is_refused(site: Site, staff: TestClient):
    other = site.performances("gebroeders-mierlo")[0]
    foreign = categories(site, other.id)[0]
    response = sell(staff, site, **{quantity(foreign): "1"})
    assert response.status_code == 404
    assert "prijscategorie" in response.text
    assert site.count("orders") == 0
    unknown = sell(staff, site, **{f"aantal-{uuid.uuid4()}": "1"})
    assert unknown.status_code == 404
    assert staff.post(f"{COUNTER}/verkopen", data={"aantal-x": "1"}).status_code == 403


def test_a_sold_out_performance_is_a_409_with_the_input_kept(site: Site, staff: TestClient):
    performance = site.performances("zwanenmeer")[0]
    regular = categories(site, performance.id)[0]
    seats = site.performance(performance.id).available_seats
    while seats:  # sold in groups of at most 50
        sold_id(sell(staff, site, **{quantity(regular): str(min(seats, 50))}))
        seats -= min(seats, 50)
    response = sell(staff, site, **{quantity(regular): "1", "name": "Groep Lieshout"})
    assert response.status_code == 409
    assert "plaatsen" in response.text
    assert 'value="Groep Lieshout"' in response.text
    assert site.count("orders") == 2
    assert site.performance(performance.id).available_seats == 0


def test_without_the_csrf_token_or_a_staff_login_nothing_is_sold(site: Site, staff: TestClient):
    performance = site.performances("zwanenmeer")[0]
    regular = categories(site, performance.id)[0]
    data = {"performance": str(performance.id), quantity(regular): "1", "method": "contant"}
    assert staff.post(f"{COUNTER}/verkopen", data=data | {"csrf_token": "vals"}).status_code == 403
    with site.client() as anonymous:
        assert anonymous.get(COUNTER).status_code == 303
        assert anonymous.post(f"{COUNTER}/verkopen", data=data).status_code == 303
    assert site.count("orders") == 0


def book(staff: TestClient, site: Site, **fields: str):
    performance = site.performances("gebroeders-mierlo")[0]
    regular = categories(site, performance.id)[0]
    data = {quantity(regular): "3", "name": "Mevr. Van Dijk", "phone": "0492 123 456"} | fields
    return staff.post(f"{COUNTER}/reserveren", data=form(staff, performance.id, **data))


def mark_paid(staff: TestClient, order_id: str, method: str = "pin"):
    page = staff.get(f"{COUNTER}/bestellingen/{order_id}")
    data = {"csrf_token": csrf_token(page.text), "method": method}
    return staff.post(f"{COUNTER}/bestellingen/{order_id}/betaald", data=data)


def test_a_phone_booking_is_marked_paid_at_the_counter(site: Site, staff: TestClient):
    order_id = sold_id(book(staff, site))
    booked = order(site, order_id)
    assert booked.status is OrderStatus.PENDING
    assert booked.sales_channel is SalesChannel.PHONE
    assert booked.pay_before is not None
    listing = staff.get(COUNTER)
    assert booked.number in listing.text

    assert mark_paid(staff, order_id, "overboeking").status_code == 303
    paid = order(site, order_id)
    assert paid.status is OrderStatus.PAID
    assert paid.payment_method is PaymentMethod.TRANSFER
    assert len(site.jobs(GenerateTickets.job_type)) == 1
    staff.get(COUNTER)  # shows the flash
    assert booked.number not in staff.get(COUNTER).text


def test_a_booking_past_its_deadline_is_not_marked_paid(site: Site):
    # A booking two hours before the start; the staff session outlives its deadline.
    site.clock.set(site.performances("gebroeders-mierlo")[0].starts_at - timedelta(hours=2))
    staff = site.client()
    log_in_as_staff(site, staff)
    order_id = sold_id(book(staff, site, email="vandijk@example.nl", phone=""))
    booked = order(site, order_id)
    performance = site.performance(booked.tickets[0].performance_id)
    site.clock.advance(booked.pay_before - site.clock.now())
    response = mark_paid(staff, order_id, "contant")
    assert response.status_code == 409
    assert "verlopen" in response.text
    assert order(site, order_id).status is OrderStatus.EXPIRED
    assert site.performance(performance.id).available_seats == performance.available_seats + 3


@pytest.mark.parametrize(
    ("fields", "status"),
    [({"name": ""}, 422), ({"phone": "", "email": ""}, 422), ({"phone": "bel maar"}, 422)],
)
def test_a_phone_booking_needs_a_name_and_a_way_to_reach_the_buyer(
    site: Site, staff: TestClient, fields: dict[str, str], status: int
):
    assert book(staff, site, **fields).status_code == status
    assert site.count("orders") == 0


def test_a_web_order_is_not_marked_paid_at_the_counter(site: Site, staff: TestClient):
    order_id = sold_id(sell(staff, site))
    assert mark_paid(staff, order_id).status_code == 409  # paid already, and not a booking


def test_the_day_overview_and_its_csv(site: Site, staff: TestClient):
    sold_id(sell(staff, site))
    sold_id(sell(staff, site, method="pin"))
    day = (site.clock.now()).date().isoformat()
    page = staff.get(f"{COUNTER}/dagoverzicht", params={"datum": day})
    assert page.status_code == 200
    assert "Contant" in page.text
    assert "Pin" in page.text
    assert accessibility_problems(page.text) == []

    csv = staff.get(f"{COUNTER}/dagoverzicht.csv", params={"datum": day})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "datum;medewerker;betaalwijze;bestellingen;kaarten;bedrag"
    assert lines[1].startswith(f"{day};Kassa;contant;1;2;")
    assert lines[2].startswith(f"{day};Kassa;pin;1;2;")
    assert lines[3].startswith(f"{day};totaal;;2;4;")
    empty = staff.get(
        f"{COUNTER}/dagoverzicht.csv",
        params={"datum": (site.clock.now() - timedelta(days=1)).date().isoformat()},
    )
    assert empty.text.lstrip("\ufeff").splitlines()[1:] == [
        f"{(site.clock.now() - timedelta(days=1)).date().isoformat()};totaal;;0;0;0,00"
    ]
    for bad in ("gisteren", "2026-13-01", "1999-01-01"):
        assert staff.get(f"{COUNTER}/dagoverzicht", params={"datum": bad}).status_code == 400

"""Staff manage price categories over HTTP: a performance's own, a show's default set, coupons
for chosen categories, and the order page's categories with refunds of chosen tickets."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mierloos_adapters.fake_payments import FakePaymentProvider
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, TicketStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.model.price_categories import PriceCategory, Visibility
from mierloos_core.services.checkout import CheckoutRequest
from mierloos_core.services.ordering import OrderPlaced
from tests.integration.web.test_admin_catalog import add_performance, field_error, show_id
from tests.integration.web.web_support import (
    BASE_URL,
    Site,
    csrf_token,
    log_in_as_staff,
    session_token,
)

SLUG = "gebroeders-mierlo"


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def performance_of(site: Site) -> Performance:
    return site.performances(SLUG)[0]


def page(performance_id: uuid.UUID) -> str:
    return f"/beheer/uitvoeringen/{performance_id}"


def categories(site: Site, performance_id: uuid.UUID) -> list[PriceCategory]:
    return site.container.staff_price_categories().for_performance(performance_id)


def category_named(site: Site, performance_id: uuid.UUID, name: str) -> PriceCategory:
    return next(c for c in categories(site, performance_id) if c.name_nl == name)


def post_category(client: TestClient, path: str, token_page: str, **fields: str) -> httpx.Response:
    data = {
        "csrf_token": csrf_token(client.get(token_page).text),
        "name_nl": "CJP",
        "name_en": "CJP",
        "price": "15,00",
        "limit": "",
        "visibility": "public",
        "position": "1",
    }
    data.update(fields)
    return client.post(path, data=data)


def add_category(client: TestClient, performance_id: uuid.UUID, **fields: str) -> httpx.Response:
    path = page(performance_id)
    return post_category(client, path + "/prijscategorieen", path, **fields)


def edit_category(client: TestClient, category: PriceCategory, **fields: str) -> httpx.Response:
    path = f"{page(category.performance_id)}/prijscategorieen/{category.id}"
    return post_category(client, path, path, **fields)


def place_paid_order(
    site: Site, performance: Performance, lines: list[CartLine], coupon: str | None = None
) -> Order:
    """A checkout through the core with chosen categories, paid at the provider."""
    request = CheckoutRequest(
        email="jan@example.nl", name="Jan Jansen", lines=lines, coupon_code=coupon
    )
    placed = site.container.ordering().place_and_pay(request, "192.0.2.7")
    assert isinstance(placed, OrderPlaced), placed
    order_id = placed.order.order_id
    with site.container.uow() as uow:
        payment = uow.payments.latest_for_order(order_id)
    assert payment is not None
    assert payment.provider_payment_id is not None
    gateway: Any = site.gateway  # the memory or the fake provider: both can be told it is paid
    gateway.set_status(payment.provider_payment_id, PaymentStatus.PAID)
    assert site.container.payments().sync(payment.provider_payment_id) is OrderStatus.PAID
    return order(site, order_id)


def order(site: Site, order_id: uuid.UUID) -> Order:
    with site.container.uow() as uow:
        found = uow.orders.get(order_id)
    assert found is not None
    return found


# --- a performance's categories ------------------------------------------------------------------


def test_staff_add_a_limited_category_and_see_its_seats_left(site: Site, staff: TestClient) -> None:
    performance = performance_of(site)

    answer = add_category(staff, performance.id, limit="20")

    assert answer.status_code == 303
    assert answer.headers["location"] == page(performance.id)
    shown = staff.get(page(performance.id)).text
    assert 'Prijscategorie "CJP" is toegevoegd.' in shown
    assert "Regulier" in shown
    assert "€ 15,00" in shown
    assert "20 plaatsen, nog 20 vrij" in shown
    cjp = category_named(site, performance.id, "CJP")
    assert (cjp.price, cjp.limit, cjp.visibility) == (Money(1500), 20, Visibility.PUBLIC)


def test_staff_edit_a_category(site: Site, staff: TestClient) -> None:
    performance = performance_of(site)
    add_category(staff, performance.id)
    cjp = category_named(site, performance.id, "CJP")
    form = staff.get(f"{page(performance.id)}/prijscategorieen/{cjp.id}")
    assert form.status_code == 200
    assert 'value="15,00"' in form.text

    answer = edit_category(staff, cjp, name_nl="CJP/student", name_en="Student", price="12,50")

    assert answer.status_code == 303
    edited = category_named(site, performance.id, "CJP/student")
    assert (edited.id, edited.name_en, edited.price) == (cjp.id, "Student", Money(1250))
    assert "CJP/student" in staff.get(page(performance.id)).text


def test_a_staff_only_category_is_marked_so(site: Site, staff: TestClient) -> None:
    performance = performance_of(site)

    add_category(
        staff, performance.id, name_nl="Vrijkaart", name_en="Free", price="0", visibility="staff"
    )

    free = category_named(site, performance.id, "Vrijkaart")
    assert free.visibility is Visibility.STAFF
    assert free.price == Money(0)
    assert (
        "Alleen voor medewerkers (vrijkaarten, pers)</td>" in staff.get(page(performance.id)).text
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name_nl": " "}, "name_nl", "Vul een naam in"),
        ({"name_nl": "regulier"}, "name_nl", "al een categorie met die naam"),
        ({"price": "duur"}, "price", "Vul een bedrag in euro"),
        ({"price": "2000,00"}, "price", "Kies een prijs van € 0,00 tot en met"),
        ({"limit": "-1"}, "limit", "Kies een grens van 0 tot en met"),
        ({"visibility": "iedereen"}, "visibility", "Kies wie deze categorie kan kopen."),
    ],
)
def test_a_wrong_category_comes_back_with_the_reason_next_to_the_field(
    site: Site, staff: TestClient, fields: dict[str, str], field: str, message: str
) -> None:
    performance = performance_of(site)

    answer = add_category(staff, performance.id, **fields)

    assert answer.status_code == 422
    assert message in field_error(answer.text, f"categorie-{field}")
    assert len(categories(site, performance.id)) == 1


def test_a_limit_below_the_seats_held_is_refused(site: Site, staff: TestClient) -> None:
    performance = performance_of(site)
    add_category(staff, performance.id, limit="5")
    cjp = category_named(site, performance.id, "CJP")
    line = CartLine(performance_id=performance.id, quantity=3, category_id=cjp.id)
    place_paid_order(site, performance, [line])
    assert "5 plaatsen, nog 2 vrij" in staff.get(page(performance.id)).text

    answer = edit_category(staff, cjp, limit="2")

    assert answer.status_code == 422
    assert "al meer kaarten verkocht of gereserveerd" in field_error(answer.text, "limit")
    assert category_named(site, performance.id, "CJP").limit == 5
    assert edit_category(staff, cjp, limit="3").status_code == 303
    assert category_named(site, performance.id, "CJP").available == 0


# --- a show's default set ------------------------------------------------------------------------


def post_defaults(client: TestClient, show: uuid.UUID, typed: str) -> httpx.Response:
    path = f"/beheer/voorstellingen/{show}"
    data = {"csrf_token": csrf_token(client.get(path).text), "defaults": typed}
    return client.post(path + "/prijscategorieen", data=data)


def test_the_show_defaults_are_copied_to_a_new_performance(site: Site, staff: TestClient) -> None:
    show = show_id(site, SLUG)
    typed = "Regulier; Regular; 20,00\nCJP; CJP; 15,00; 20\nPers; Press; 0; ; medewerkers"

    answer = post_defaults(staff, show, typed)

    assert answer.status_code == 303
    assert "CJP; CJP; 15,00; 20" in staff.get(f"/beheer/voorstellingen/{show}").text
    before = {p.id for p in site.performances(SLUG)}
    assert add_performance(staff, show).status_code == 303
    [new] = [p for p in site.performances(SLUG) if p.id not in before]
    copied = sorted(categories(site, new.id), key=lambda c: c.position)
    assert [(c.name_nl, c.name_en, c.price.cents, c.limit, c.visibility) for c in copied] == [
        ("Regulier", "Regular", 2250, None, Visibility.PUBLIC),  # the performance's price
        ("CJP", "CJP", 1500, 20, Visibility.PUBLIC),
        ("Pers", "Press", 0, None, Visibility.STAFF),
    ]
    older = performance_of(site)
    assert older.id in before
    assert [c.name_nl for c in categories(site, older.id)] == ["Regulier"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Regulier; Regular", "Regel 1: schrijf naam; Engelse naam; prijs"),
        ("Regulier; Regular; 20,00\nCJP; CJP; gratis", "Regel 2: Vul een bedrag in euro"),
        ("Pers; Press; 0; ; iedereen", "Regel 1: het laatste deel is leeg of"),
        ("CJP; CJP; 15,00\ncjp; Student; 12,00", "al een categorie met die naam"),
    ],
)
def test_a_wrong_default_set_is_refused_with_the_reason(
    site: Site, staff: TestClient, typed: str, message: str
) -> None:
    show = show_id(site, SLUG)

    answer = post_defaults(staff, show, typed)

    assert answer.status_code == 422
    assert message in field_error(answer.text, "standaard-defaults")
    assert site.container.staff_price_categories().show_defaults(show) == []


# --- coupons for chosen categories ---------------------------------------------------------------


def new_coupon(client: TestClient, code: str, names: str) -> httpx.Response:
    """A percentage coupon for the categories named (comma-separated)."""
    data = {
        "csrf_token": csrf_token(client.get("/beheer/kortingscodes/nieuw").text),
        "code": code,
        "kind": "percentage",
        "value": "50",
        "categories": "gekozen",
        "category_names": names,
    }
    return client.post("/beheer/kortingscodes/nieuw", data=data)


def test_a_coupon_for_one_category_discounts_only_that_one(site: Site, staff: TestClient) -> None:
    assert new_coupon(staff, "cjpkorting", "CJP").status_code == 303
    listed = staff.get("/beheer/kortingscodes").text
    assert re.search(r"CJPKORTING.*?<td>50%</td>\s*<td>cjp</td>", listed, flags=re.S)
    [coupon] = [c for c in site.container.staff_coupons().list() if c.code == "CJPKORTING"]
    assert coupon.category_names == ("cjp",)
    assert 'value="gekozen" checked' in staff.get(f"/beheer/kortingscodes/{coupon.id}").text

    performance = performance_of(site)
    add_category(staff, performance.id)
    cjp = category_named(site, performance.id, "CJP")
    lines = [
        CartLine(performance_id=performance.id, quantity=2, category_id=cjp.id),
        CartLine(performance_id=performance.id, quantity=1),
    ]
    paid = place_paid_order(site, performance, lines, coupon="CJPKORTING")
    assert paid.discount == Money(1500)  # half of the two CJP tickets, none of the regular


def test_a_coupon_for_chosen_categories_needs_a_name(site: Site, staff: TestClient) -> None:
    answer = new_coupon(staff, "LEEG", " , ")
    assert answer.status_code == 422
    assert "Noem minstens één prijscategorie" in field_error(answer.text, "category_names")
    assert "LEEG" not in [c.code for c in site.container.staff_coupons().list()]


# --- the order page and refunds of chosen tickets ------------------------------------------------


@pytest.fixture
def fake_site(make_site: Callable[..., Site], tmp_path: Path) -> Site:
    return make_site(gateway=FakePaymentProvider(tmp_path / "fake", base_url=BASE_URL))


def test_staff_see_each_tickets_category_and_refund_one_ticket(fake_site: Site) -> None:
    site = fake_site
    performance = performance_of(site)
    with site.client() as staff:
        log_in_as_staff(site, staff)
        add_category(staff, performance.id, limit="5")
        cjp = category_named(site, performance.id, "CJP")
        lines = [
            CartLine(performance_id=performance.id, quantity=2, category_id=cjp.id),
            CartLine(performance_id=performance.id, quantity=1),
        ]
        paid = place_paid_order(site, performance, lines)
        detail = staff.get(f"/beheer/bestellingen/{paid.id}").text
        assert '<td class="category">CJP</td>' in detail
        assert '<td class="category">Regulier</td>' in detail
        cjp_ticket = next(t for t in paid.tickets if t.category_name == "CJP")
        assert f'name="ticket" value="{cjp_ticket.id}"' in detail
        seats_before = site.performance(performance.id).available_seats

        answer = staff.post(
            f"/beheer/bestellingen/{paid.id}/terugbetalen",
            data={
                "csrf_token": session_token(staff),
                "ticket": str(cjp_ticket.id),
                "amount": "",
                "reason": "Ziek",
                "request_key": secrets.token_urlsafe(16),
            },
        )

        assert answer.status_code == 303
        assert "€ 15,00 wordt terugbetaald voor 1 kaart" in staff.get("/").text
    refunded = order(site, paid.id)
    assert refunded.status is OrderStatus.PAID
    statuses = {t.id: t.status for t in refunded.tickets}
    assert statuses.pop(cjp_ticket.id) is TicketStatus.REFUNDED
    assert set(statuses.values()) == {TicketStatus.VALID}
    assert site.performance(performance.id).available_seats == seats_before + 1
    assert category_named(site, performance.id, "CJP").available == 5 - 1


def test_a_ticket_of_another_order_refunds_nothing(site: Site, staff: TestClient) -> None:
    performance = performance_of(site)
    line = CartLine(performance_id=performance.id, quantity=1)
    paid = place_paid_order(site, performance, [line])

    answer = staff.post(
        f"/beheer/bestellingen/{paid.id}/terugbetalen",
        data={
            "csrf_token": session_token(staff),
            "ticket": str(uuid.uuid4()),
            "request_key": secrets.token_urlsafe(16),
        },
    )

    assert answer.status_code == 303
    with site.container.uow() as uow:
        assert uow.refunds.for_order(paid.id) == []
    assert {t.status for t in order(site, paid.id).tickets} == {TicketStatus.VALID}


def test_a_category_of_another_performance_is_not_found(site: Site, staff: TestClient) -> None:
    first, second = site.performances(SLUG)[:2]
    [regular] = categories(site, first.id)

    assert staff.get(f"{page(second.id)}/prijscategorieen/{regular.id}").status_code == 404
    assert staff.get(f"{page(first.id)}/prijscategorieen/{uuid.uuid4()}").status_code == 404

"""Staff refund an order over HTTP: POST /beheer/bestellingen/{id}/terugbetalen.

Empty amount = all that is left: the tickets become invalid and the seats free. An amount
below that is money only: the tickets stay valid.
"""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.payments import PaymentStatus, RefundStatus
from tests.integration.web.web_support import (
    Site,
    add_to_cart,
    check_out,
    log_in,
    log_in_as_staff,
    session_token,
)

SLUG = "gebroeders-mierlo"
TICKETS = 2  # of 22,50 each: 45,00


def gateway_of(site: Site) -> MemoryPaymentGateway:
    assert isinstance(site.gateway, MemoryPaymentGateway)
    return site.gateway


def paid_order(site: Site) -> uuid.UUID:
    with site.client() as visitor:
        add_to_cart(visitor, site.performances(SLUG)[0].id, TICKETS)
        check_out(visitor)
    with site.container.engine().connect() as connection:
        order_id = uuid.UUID(str(connection.execute(text("SELECT id FROM orders")).scalar_one()))
    gateway = gateway_of(site)
    [provider_id] = gateway.payments
    gateway.set_status(provider_id, PaymentStatus.PAID)
    assert site.container.payments().sync(provider_id) is OrderStatus.PAID
    return order_id


def post_refund(
    client: TestClient, order_id: uuid.UUID | str, **fields: str
) -> tuple[int, str, str]:
    """The answer's status and location, and the flash message shown on the next page."""
    data = {
        "csrf_token": session_token(client),
        "amount": "",
        "reason": "",
        "request_key": secrets.token_urlsafe(16),  # a fresh page each time
    }
    data.update(fields)
    answer = client.post(f"/beheer/bestellingen/{order_id}/terugbetalen", data=data)
    shown = client.get("/").text if answer.status_code == 303 else ""
    return answer.status_code, answer.headers.get("location", ""), shown


def order(site: Site, order_id: uuid.UUID):
    with site.container.uow() as uow:
        return uow.orders.get(order_id)


def refunds(site: Site, order_id: uuid.UUID):
    with site.container.uow() as uow:
        return uow.refunds.for_order(order_id)


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def test_a_whole_refund_invalidates_the_tickets_frees_the_seats_and_says_so(
    site: Site, staff: TestClient
) -> None:
    order_id = paid_order(site)
    performance = site.performances(SLUG)[0]

    status, location, shown = post_refund(staff, order_id, reason="Voorstelling geannuleerd")

    assert status == 303
    assert location == f"/beheer/bestellingen/{order_id}"
    assert "€ 45,00 wordt terugbetaald" in shown
    assert "plaatsen zijn weer vrij" in shown
    refunded = order(site, order_id)
    assert refunded.status is OrderStatus.REFUNDED
    assert {t.status for t in refunded.tickets} == {TicketStatus.REFUNDED}
    assert site.performance(performance.id).available_seats == performance.available_seats + 2
    [refund] = refunds(site, order_id)
    assert refund.reason == "Voorstelling geannuleerd"
    assert refund.requested_by == "kassa@example.org"


@pytest.mark.parametrize("typed", ["12,50", "12.50", "€ 12,50"])
def test_a_partial_refund_is_money_only_and_the_tickets_stay_valid(
    site: Site, staff: TestClient, typed: str
) -> None:
    order_id = paid_order(site)

    status, _, shown = post_refund(staff, order_id, amount=typed)

    assert status == 303
    assert "€ 12,50 wordt terugbetaald (gedeeltelijk). De kaarten blijven geldig." in shown
    kept = order(site, order_id)
    assert kept.status is OrderStatus.PAID
    assert {t.status for t in kept.tickets} == {TicketStatus.VALID}
    [refund] = refunds(site, order_id)
    assert refund.amount.cents == 1250


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("45,01", "hoogstens € 45,00"),
        ("0", "minstens € 0,01"),
        ("twaalf", "Vul een bedrag in euro"),
        ("1" * 21, "hoogstens 20 tekens"),
    ],
)
def test_a_wrong_amount_refunds_nothing_and_says_why(
    site: Site, staff: TestClient, typed: str, message: str
) -> None:
    order_id = paid_order(site)

    status, _, shown = post_refund(staff, order_id, amount=typed)

    assert status == 303
    assert message in shown
    assert refunds(site, order_id) == []
    assert gateway_of(site).refund_calls == 0


def test_a_reason_over_200_characters_refunds_nothing(site: Site, staff: TestClient) -> None:
    order_id = paid_order(site)

    _, _, shown = post_refund(staff, order_id, reason="x" * 201)

    assert "hoogstens 200 tekens" in shown
    assert refunds(site, order_id) == []


def test_pressing_twice_refunds_once(site: Site, staff: TestClient) -> None:
    order_id = paid_order(site)
    post_refund(staff, order_id)

    _, _, shown = post_refund(staff, order_id)

    assert "al volledig terugbetaald" in shown
    assert len(refunds(site, order_id)) == 1
    assert len(gateway_of(site).refunds) == 1


def test_an_unpaid_order_is_not_refunded(site: Site, staff: TestClient) -> None:
    with site.client() as visitor:
        add_to_cart(visitor, site.performances(SLUG)[0].id, 1)
        check_out(visitor)
    with site.container.engine().connect() as connection:
        order_id = uuid.UUID(str(connection.execute(text("SELECT id FROM orders")).scalar_one()))

    _, _, shown = post_refund(staff, order_id)

    assert "kan niet (meer) worden terugbetaald" in shown
    assert gateway_of(site).refund_calls == 0


def test_with_the_provider_down_the_refund_waits_and_staff_are_told(
    site: Site, staff: TestClient
) -> None:
    order_id = paid_order(site)
    gateway_of(site).down = True

    status, _, shown = post_refund(staff, order_id)

    assert status == 303
    assert "niet bereikbaar" in shown
    [refund] = refunds(site, order_id)
    assert refund.status is RefundStatus.REQUESTED
    assert order(site, order_id).status is OrderStatus.PAID


def test_a_refusal_by_the_provider_is_shown_and_recorded_as_failed(
    site: Site, staff: TestClient
) -> None:
    order_id = paid_order(site)
    gateway_of(site).refuse = True

    _, _, shown = post_refund(staff, order_id)

    assert "weigerde de terugbetaling" in shown
    [refund] = refunds(site, order_id)
    assert refund.status is RefundStatus.FAILED
    assert order(site, order_id).status is OrderStatus.PAID


@pytest.mark.parametrize("order_id", ["geen-id", str(uuid.UUID(int=7))])
def test_an_unknown_order_is_not_found(site: Site, staff: TestClient, order_id: str) -> None:
    status, _, _ = post_refund(staff, order_id)

    assert status == 404


def test_visitors_are_sent_to_log_in_and_nothing_is_refunded(
    site: Site, client: TestClient
) -> None:
    order_id = paid_order(site)

    status, location, _ = post_refund(client, order_id)

    assert status == 303
    assert location.startswith("/account/inloggen")
    assert refunds(site, order_id) == []


def test_customers_are_refused(site: Site, client: TestClient) -> None:
    order_id = paid_order(site)
    site.container.accounts().register("klant@example.nl", "Klant", "een-lang-wachtwoord-1")
    assert log_in(client, "klant@example.nl", "een-lang-wachtwoord-1").status_code == 303

    status, _, _ = post_refund(client, order_id)

    assert status == 403
    assert refunds(site, order_id) == []


def test_a_refund_without_the_csrf_token_is_refused(site: Site, staff: TestClient) -> None:
    order_id = paid_order(site)

    answer = staff.post(f"/beheer/bestellingen/{order_id}/terugbetalen", data={"amount": ""})

    assert answer.status_code == 403
    assert refunds(site, order_id) == []


def test_the_order_page_lists_refunds_and_offers_only_what_is_left(
    site: Site, staff: TestClient
) -> None:
    order_id = paid_order(site)
    post_refund(staff, order_id, amount="12,50", reason="Eén kaart terug")

    page = staff.get(f"/beheer/bestellingen/{order_id}")

    assert page.status_code == 200
    assert "Eén kaart terug" in page.text
    assert "nog terug te betalen: € 32,50" in page.text
    assert 'action="/beheer/bestellingen/' in page.text  # the form stays for the rest

    post_refund(staff, order_id)  # all that is left
    page = staff.get(f"/beheer/bestellingen/{order_id}")
    assert "nog terug te betalen: € 0,00" in page.text
    assert "/terugbetalen" not in page.text


def test_a_refund_held_up_by_an_outage_is_sent_when_staff_look_again(
    site: Site, staff: TestClient
) -> None:
    order_id = paid_order(site)
    gateway = gateway_of(site)
    gateway.down = True
    post_refund(staff, order_id)
    assert refunds(site, order_id)[0].provider_refund_id is None

    gateway.down = False
    page = staff.get(f"/beheer/bestellingen/{order_id}")

    assert page.status_code == 200
    [refund] = refunds(site, order_id)
    assert refund.provider_refund_id is not None
    assert refund.status is not RefundStatus.REQUESTED


def refund_form_key(page: str) -> str:
    form = page[page.index('action="/beheer/bestellingen/') :]
    form = form[form.index("/terugbetalen") :]
    found = re.search(r'name="request_key" value="([^"]+)"', form)
    assert found, "the refund form carries a request key"
    return found.group(1)


def test_a_double_click_on_a_partial_refund_refunds_once(site: Site, staff: TestClient) -> None:
    order_id = paid_order(site)
    key = refund_form_key(staff.get(f"/beheer/bestellingen/{order_id}").text)

    post_refund(staff, order_id, amount="12,50", request_key=key)
    status, _, shown = post_refund(staff, order_id, amount="12,50", request_key=key)

    assert status == 303
    assert "€ 12,50 wordt terugbetaald (gedeeltelijk)" in shown
    [refund] = refunds(site, order_id)
    assert refund.request_key == key
    assert gateway_of(site).refund_calls == 1


def test_two_real_submissions_make_two_partial_refunds(site: Site, staff: TestClient) -> None:
    order_id = paid_order(site)
    first_page = staff.get(f"/beheer/bestellingen/{order_id}").text
    post_refund(staff, order_id, amount="10,00", request_key=refund_form_key(first_page))
    second_page = staff.get(f"/beheer/bestellingen/{order_id}").text

    post_refund(staff, order_id, amount="5,00", request_key=refund_form_key(second_page))

    assert refund_form_key(first_page) != refund_form_key(second_page)
    assert sorted(r.amount.cents for r in refunds(site, order_id)) == [500, 1000]
    assert gateway_of(site).refund_calls == 2
    assert "nog terug te betalen: € 30,00" in staff.get(f"/beheer/bestellingen/{order_id}").text


def test_the_same_key_after_a_refusal_shows_the_refusal_and_sends_nothing_again(
    site: Site, staff: TestClient
) -> None:
    order_id = paid_order(site)
    gateway = gateway_of(site)
    gateway.refuse = True
    post_refund(staff, order_id, request_key="dubbel-geklikt-1")
    gateway.refuse = False

    _, _, shown = post_refund(staff, order_id, request_key="dubbel-geklikt-1")

    assert "weigerde de terugbetaling" in shown
    [refund] = refunds(site, order_id)
    assert refund.status is RefundStatus.FAILED
    assert gateway.refund_calls == 1


@pytest.mark.parametrize("key", ["", "kort", "met spaties erin!"])
def test_a_refund_without_a_valid_request_key_refunds_nothing(
    site: Site, staff: TestClient, key: str
) -> None:
    order_id = paid_order(site)

    status, _, shown = post_refund(staff, order_id, request_key=key)

    assert status == 303
    assert "verplicht" in shown or "Laad de pagina opnieuw" in shown
    assert refunds(site, order_id) == []
    assert gateway_of(site).refund_calls == 0

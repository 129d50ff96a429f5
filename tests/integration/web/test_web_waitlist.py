"""The waiting list over HTTP: joining a sold-out performance (and every refusal), the personal
page, the offer page and its checkout, and staff's page with its actions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import close_order, lock_order
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import Site, log_in_as_staff, session_token

SLUG = "gebroeders-mierlo"
SHOW_PAGE = f"/voorstellingen/{SLUG}"


def sell_out(site: Site, performance: Performance) -> uuid.UUID:
    """Take every seat: all but two straight from the inventory, the last two in an unpaid
    order (returned; closing it gives them back)."""
    with site.container.uow() as uow:
        uow.seats.reserve({performance.id: performance.available_seats - 2})
        uow.commit()
    line = CartLine(performance_id=performance.id, quantity=2)
    request = CheckoutRequest(email="koper@example.nl", name="Koper", lines=[line])
    return checkout(site.container.uow(), site.clock, request).order_id


def expire(site: Site, order_id: uuid.UUID) -> None:
    with site.container.uow() as uow:
        close_order(uow, lock_order(uow, order_id), OrderStatus.EXPIRED, site.clock.now())
        uow.commit()


def join(
    site: Site,
    client: TestClient,
    target: Performance,
    email: str = "wacht@example.nl",
    **fields: str,
):
    """Join through the show page's form; the clock moves on a second, so places differ."""
    site.clock.advance(timedelta(seconds=1))
    data = {
        "csrf_token": session_token(client, SHOW_PAGE),
        "performance": str(target.id),
        "slug": SLUG,
        "email": email,
        "quantity": "2",
        "website": "",
    }
    data.update(fields)
    return client.post("/wachtlijst/aanmelden", data=data)


def joined_token(site: Site, email: str) -> str:
    mails = [j.data for j in site.jobs("email") if j.data["template"] == "waitlist_joined"]
    return str([m for m in mails if m["to"] == email][-1]["context"]["waitlist_token"])


def run_offer_jobs(site: Site) -> None:
    lists = site.container.waitlists()
    for job in site.jobs("waitlist_offer"):
        lists.offer_held_seats(uuid.UUID(job.data["performance_id"]))


def offer_secret(site: Site, email: str) -> str:
    with site.container.uow() as uow:
        entry = uow.waitlists.find(site.performances(SLUG)[0].id, email)
        assert entry is not None
        assert entry.offer_order_id is not None
        order = uow.orders.get(entry.offer_order_id)
    assert order is not None
    return order.secret


@pytest.fixture
def performance(site: Site) -> Performance:
    return site.performances(SLUG)[0]


def test_a_sold_out_performance_offers_the_join_form_and_one_with_seats_does_not(
    site: Site, client: TestClient, performance: Performance
) -> None:
    assert 'action="/wachtlijst/aanmelden"' not in client.get(SHOW_PAGE).text
    sell_out(site, performance)
    page = client.get(SHOW_PAGE).text
    assert page.count('action="/wachtlijst/aanmelden"') == 1
    assert f'value="{performance.id}"' in page


def test_joining_then_joining_again_updates_the_entry_and_keeps_the_place(
    site: Site, client: TestClient, performance: Performance
) -> None:
    sell_out(site, performance)
    first = join(site, client, performance)
    assert first.status_code == 200
    assert "nummer 1" in first.text
    assert joined_token(site, "wacht@example.nl") not in first.text  # only by e-mail
    join(site, client, performance, "ander@example.nl")
    again = join(site, client, performance, "WACHT@example.nl", quantity="3")
    assert again.status_code == 200
    assert "nummer 1" in again.text
    assert site.count("waitlist_entries") == 2
    assert site.count("waitlist_entries", email="wacht@example.nl", quantity=3) == 1


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"email": "geen adres"}, 422),
        ({"quantity": "0"}, 400),
        ({"quantity": "99"}, 400),
        ({"website": "http://spam.example"}, 400),
        ({"performance": "nope"}, 404),
        ({"category_id": str(uuid.uuid4())}, 404),
    ],
)
def test_bad_joins_are_refused_and_nothing_is_stored(
    site: Site, client: TestClient, performance: Performance, fields: dict[str, str], status: int
) -> None:
    sell_out(site, performance)
    assert join(site, client, performance, **fields).status_code == status
    assert site.count("waitlist_entries") == 0


def test_joining_a_performance_with_seats_is_refused_with_a_link_to_buy(
    site: Site, client: TestClient, performance: Performance
) -> None:
    answer = join(site, client, performance)
    assert answer.status_code == 409
    assert f'href="{SHOW_PAGE}"' in answer.text
    assert site.count("waitlist_entries") == 0


def test_a_join_without_its_csrf_token_is_refused(
    site: Site, client: TestClient, performance: Performance
) -> None:
    sell_out(site, performance)
    answer = client.post(
        "/wachtlijst/aanmelden",
        data={"performance": str(performance.id), "email": "a@example.nl", "quantity": "1"},
    )
    assert answer.status_code == 403
    assert site.count("waitlist_entries") == 0


def test_joins_are_throttled_per_client(
    site: Site, client: TestClient, performance: Performance
) -> None:
    sell_out(site, performance)
    answers = [join(site, client, performance, f"w{i}@example.nl").status_code for i in range(11)]
    assert answers[:10] == [200] * 10
    assert answers[10] == 429


def test_the_personal_page_shows_the_place_and_leaving_works(
    site: Site, client: TestClient, performance: Performance
) -> None:
    sell_out(site, performance)
    join(site, client, performance, "eerste@example.nl")
    join(site, client, performance, "tweede@example.nl")
    token = joined_token(site, "tweede@example.nl")

    page = client.get(f"/wachtlijst/{token}")
    assert page.status_code == 200
    assert "nummer 2" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    left = client.post(
        f"/wachtlijst/{token}/verlaten", data={"csrf_token": session_token(client, SHOW_PAGE)}
    )
    assert left.status_code == 303
    assert "niet meer op de wachtlijst" in client.get(f"/wachtlijst/{token}").text
    assert client.get("/wachtlijst/" + "x" * 43).status_code == 404
    assert client.get("/wachtlijst/kort").status_code == 404


def test_a_cancelled_performance_closes_the_list_and_the_personal_page_says_so(
    site: Site, client: TestClient, performance: Performance
) -> None:
    sell_out(site, performance)
    join(site, client, performance, "wacht@example.nl")
    token = joined_token(site, "wacht@example.nl")

    site.container.staff_catalog().cancel(performance.id)

    page = client.get(f"/wachtlijst/{token}")
    assert "Deze voorstelling is geannuleerd; de wachtlijst is gesloten." in page.text
    assert "/verlaten" not in page.text
    client.get("/taal/en?next=/", follow_redirects=False)
    english = client.get(f"/wachtlijst/{token}")
    assert "This performance is cancelled; its waiting list is closed." in english.text
    told = [j.data for j in site.jobs("email") if j.data["template"] == "waitlist_cancelled"]
    assert [m["to"] for m in told] == ["wacht@example.nl"]


def test_released_seats_are_offered_and_bought_from_the_offer_link(
    site: Site, client: TestClient, performance: Performance
) -> None:
    order = sell_out(site, performance)
    join(site, client, performance, "wacht@example.nl")
    expire(site, order)
    assert site.performance(performance.id).available_seats == 0  # held for the list
    run_offer_jobs(site)
    secret = offer_secret(site, "wacht@example.nl")
    mails = [j.data for j in site.jobs("email") if j.data["template"] == "waitlist_offer"]
    assert [m["to"] for m in mails] == ["wacht@example.nl"]

    page = client.get(f"/wachtlijst/aanbod/{secret}")
    assert page.status_code == 200
    assert "2 kaarten" in page.text
    token = session_token(client, f"/wachtlijst/aanbod/{secret}")
    empty = client.post(f"/wachtlijst/aanbod/{secret}", data={"csrf_token": token, "name": ""})
    assert empty.status_code == 400
    paying = client.post(
        f"/wachtlijst/aanbod/{secret}", data={"csrf_token": token, "name": "Wim Wachter"}
    )
    assert paying.status_code == 303
    assert site.count("payments") == 1

    assert isinstance(site.gateway, MemoryPaymentGateway)
    [provider_id] = site.gateway.payments
    assert paying.headers["location"] == f"https://pay.example/{provider_id}"
    site.gateway.set_status(provider_id, PaymentStatus.PAID)
    site.container.payments().sync(provider_id)
    assert client.get(f"/wachtlijst/aanbod/{secret}").status_code == 409
    assert site.count("waitlist_entries", status="converted") == 1


def test_an_expired_offer_link_says_so_and_the_seats_pass_on(
    site: Site, client: TestClient, performance: Performance
) -> None:
    order = sell_out(site, performance)
    join(site, client, performance, "eerste@example.nl")
    join(site, client, performance, "tweede@example.nl")
    expire(site, order)
    run_offer_jobs(site)
    secret = offer_secret(site, "eerste@example.nl")
    site.clock.advance(timedelta(hours=25))
    site.container.payments().expire_overdue()
    run_offer_jobs(site)

    gone = client.get(f"/wachtlijst/aanbod/{secret}")
    assert gone.status_code == 410
    assert "verlopen" in gone.text
    assert offer_secret(site, "tweede@example.nl")


def test_staff_see_the_list_and_remove_offer_and_turn_it_off(
    site: Site, client: TestClient, performance: Performance
) -> None:
    order = sell_out(site, performance)
    join(site, client, performance, "eerste@example.nl")
    join(site, client, performance, "tweede@example.nl", quantity="1")
    page = f"/beheer/uitvoeringen/{performance.id}/wachtlijst"
    assert client.get(page).status_code in (302, 303)  # staff only
    log_in_as_staff(site, client)
    listing = client.get(page)
    assert listing.status_code == 200
    assert "eerste@example.nl" in listing.text
    assert "tweede@example.nl" in listing.text
    with site.container.uow() as uow:
        first, second = uow.waitlists.entries(performance.id)
    token = session_token(client, page)

    refused = client.post(f"{page}/{second.id}/aanbieden", data={"csrf_token": token})
    assert refused.status_code == 303  # no seats: the page says why
    assert "niet genoeg" in client.get(page).text
    expire(site, order)  # two seats held for the list
    offered = client.post(f"{page}/{second.id}/aanbieden", data={"csrf_token": token})
    assert offered.status_code == 303
    assert site.count("waitlist_entries", status="offered") == 1
    client.post(f"{page}/{first.id}/verwijderen", data={"csrf_token": token})
    assert site.count("waitlist_entries", status="removed") == 1
    assert client.post(f"{page}/uit", data={"csrf_token": token}).status_code == 303
    assert "staat uit" in client.get(page).text
    assert site.performance(performance.id).available_seats == 1  # what was held went back
    assert 'action="/wachtlijst/aanmelden"' not in client.get(SHOW_PAGE).text
    assert join(site, client, performance, "laat@example.nl").status_code == 409


def test_the_waitlist_pages_pass_the_accessibility_audit(
    site: Site, client: TestClient, performance: Performance
) -> None:
    order = sell_out(site, performance)
    show_page = client.get(SHOW_PAGE).text
    joined = join(site, client, performance).text
    token = joined_token(site, "wacht@example.nl")
    expire(site, order)
    run_offer_jobs(site)
    secret = offer_secret(site, "wacht@example.nl")
    pages = {
        "show": show_page,
        "joined": joined,
        "entry": client.get(f"/wachtlijst/{token}").text,
        "offer": client.get(f"/wachtlijst/aanbod/{secret}").text,
        "refused": join(site, client, performance, "ander@example.nl").text,
    }
    assert {name: accessibility_problems(html) for name, html in pages.items()} == {
        name: [] for name in pages
    }


def test_an_english_visitor_joins_in_english_and_gets_english_mail(
    site: Site, client: TestClient, performance: Performance
) -> None:
    sell_out(site, performance)
    assert client.get("/taal/en?next=/", follow_redirects=False).status_code == 303
    assert "Put me on the waiting list" in client.get(SHOW_PAGE).text
    answer = join(site, client, performance, "english@example.nl")
    assert "You are number 1 on the list." in answer.text
    mails = [j.data for j in site.jobs("email") if j.data["template"] == "waitlist_joined"]
    assert [m["locale"] for m in mails] == ["en"]

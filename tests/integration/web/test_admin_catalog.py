"""Staff catalogue pages over HTTP: shows, performances, status buttons and image uploads."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from PIL import Image as PillowImage
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.commands import ProcessImage
from mierloos_core.model.money import Money
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services import staff_catalog
from mierloos_entrypoints.web.pages.admin.catalog import MAX_VAT_TEXT
from tests.integration.web.web_support import (
    Site,
    add_to_cart,
    check_out,
    csrf_token,
    log_in,
    log_in_as_staff,
)

SHOWS = "/beheer/voorstellingen"


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def token(client: TestClient, page: str = SHOWS + "/nieuw") -> str:
    return csrf_token(client.get(page).text)


def show_id(site: Site, slug: str) -> uuid.UUID:
    return site.performances(slug)[0].show_id


def create_show(client: TestClient, **fields: str) -> httpx.Response:
    data = {"csrf_token": token(client), "title": "", "slug": "", "description": ""}
    data.update(fields)
    return client.post(SHOWS + "/nieuw", data=data)


def add_performance(client: TestClient, show: uuid.UUID, **fields: str) -> httpx.Response:
    data = {
        "csrf_token": token(client, f"{SHOWS}/{show}"),
        "starts_at": "2026-04-10T20:15",
        "price": "22,50",
        "capacity": "80",
        "hall": "Kleine zaal",
    }
    data.update(fields)
    return client.post(f"{SHOWS}/{show}/uitvoeringen", data=data)


def act(client: TestClient, performance_id: uuid.UUID, action: str) -> httpx.Response:
    page = f"/beheer/uitvoeringen/{performance_id}"
    return client.post(f"{page}/{action}", data={"csrf_token": token(client, page)})


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-fout">([^<]*)</p>', html)
    assert found is not None, f"no error next to {field_id}"
    return found.group(1)


def png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (64, 48), (20, 90, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(
    client: TestClient, show: uuid.UUID, data: bytes, name: str = "foto.png"
) -> httpx.Response:
    return client.post(
        f"{SHOWS}/{show}/afbeelding",
        data={"csrf_token": token(client, f"{SHOWS}/{show}")},
        files={"afbeelding": (name, data, "image/png")},
    )


def pay_an_order(site: Site, client: TestClient, performance_id: uuid.UUID) -> None:
    """A real checkout, paid at the memory provider; the visitor's return applies it."""
    add_to_cart(client, performance_id, 2)
    check_out(client)
    gateway = site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    provider_id = list(gateway.payments)[-1]
    gateway.set_status(provider_id, PaymentStatus.PAID)
    order_page = site.container.payments().refresh_order
    with site.container.uow() as uow:
        payment = uow.payments.get_by_provider_id(provider_id)
    assert payment is not None
    assert order_page(payment.order_id).value == "paid"


# --- access ------------------------------------------------------------------------------------


def test_visitors_are_sent_to_log_in_and_non_staff_refused(site: Site, client: TestClient) -> None:
    answer = client.get(SHOWS)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/account/inloggen?next=")

    site.container.accounts().register("bezoeker@example.nl", "Bezoeker", "een-lang-wachtwoord")
    log_in(client, "bezoeker@example.nl", "een-lang-wachtwoord")
    assert client.get(SHOWS).status_code == 403
    performance = site.performances("gebroeders-mierlo")[0]
    assert client.post(f"/beheer/uitvoeringen/{performance.id}/annuleren").status_code == 403
    assert site.performance(performance.id).status is PerformanceStatus.PUBLISHED


def test_posts_without_the_csrf_token_are_refused(site: Site, staff: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]

    answer = staff.post(f"/beheer/uitvoeringen/{performance.id}/annuleren", data={})

    assert answer.status_code == 403
    assert site.performance(performance.id).status is PerformanceStatus.PUBLISHED


# --- shows ---------------------------------------------------------------------------------------


def test_the_list_shows_each_show_with_its_performances_seats_and_status(
    site: Site, staff: TestClient
) -> None:
    first = site.performances("gebroeders-mierlo")[0]
    add_to_cart(staff, first.id, 3)
    check_out(staff)

    page = staff.get(SHOWS)

    assert page.status_code == 200
    html = page.text
    assert "De Gebroeders Mierlo" in html
    assert "Gepubliceerd" in html
    assert "Geannuleerd" in html  # the cancelled jazz afternoon
    row = re.search(rf'href="/beheer/uitvoeringen/{first.id}".*?</tr>', html, flags=re.S)
    assert row is not None
    assert '<td class="amount">3</td>' in row.group(0)
    assert "117 van 120" in row.group(0)


def test_a_new_show_gets_a_slug_from_its_title(site: Site, staff: TestClient) -> None:
    answer = create_show(staff, title="Café & Crème", description="Een avond vol chansons.")

    assert answer.status_code == 303
    page = staff.get(answer.headers["location"])
    assert page.status_code == 200
    assert "Voorstelling" in page.text
    assert 'value="cafe-en-creme"' in page.text
    with site.container.uow() as uow:
        show = uow.shows.get_by_slug("cafe-en-creme")
    assert show is not None
    assert show.description == "Een avond vol chansons."


def test_a_taken_slug_shows_the_form_again_with_the_input(staff: TestClient) -> None:
    answer = create_show(staff, title="Nog een keer", slug="zwanenmeer", description="Tekst")

    assert answer.status_code == 422
    assert "al in gebruik" in field_error(answer.text, "slug")
    assert 'value="Nog een keer"' in answer.text
    assert ">Tekst</textarea>" in answer.text


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": "t" * 5000}, "title"),
        ({"title": ""}, "title"),
        ({"title": "ok", "slug": "Met Spaties!"}, "slug"),
        ({"title": "ok", "slug": "s" * 500}, "slug"),
        ({"title": "ok", "description": "d" * 30_000}, "description"),
        ({"title": "nul\x00teken"}, "title"),
    ],
)
def test_hostile_show_input_is_answered_next_to_the_field(
    site: Site, staff: TestClient, fields: dict[str, str], bad: str
) -> None:
    answer = create_show(staff, **fields)

    assert answer.status_code == 422
    assert field_error(answer.text, bad)
    assert site.count("shows") == 4


def test_editing_a_show(site: Site, staff: TestClient) -> None:
    show = show_id(site, "zwanenmeer")
    page = f"{SHOWS}/{show}"

    answer = staff.post(
        page,
        data={
            "csrf_token": token(staff, page),
            "title": "Het Zwanenmeer",
            "slug": "het-zwanenmeer",
            "description": "Nieuw",
        },
    )

    assert answer.status_code == 303
    assert staff.get("/voorstellingen/het-zwanenmeer").status_code == 200
    assert staff.get("/voorstellingen/zwanenmeer").status_code == 404


def test_editing_to_another_shows_slug_keeps_the_input(site: Site, staff: TestClient) -> None:
    page = f"{SHOWS}/{show_id(site, 'zwanenmeer')}"

    answer = staff.post(
        page,
        data={"csrf_token": token(staff, page), "title": "Ander", "slug": "jazz-op-zondag"},
    )

    assert answer.status_code == 422
    assert "al in gebruik" in field_error(answer.text, "voorstelling-slug")
    assert 'value="Ander"' in answer.text


def test_unknown_and_malformed_ids_are_not_found(staff: TestClient) -> None:
    assert staff.get(f"{SHOWS}/{uuid.uuid4()}").status_code == 404
    assert staff.get(f"{SHOWS}/geen-id").status_code == 404
    assert staff.get(f"/beheer/uitvoeringen/{uuid.uuid4()}").status_code == 404


# --- performances --------------------------------------------------------------------------------


def test_a_performance_is_added_as_a_concept_in_local_time(site: Site, staff: TestClient) -> None:
    show = show_id(site, "zwanenmeer")

    answer = add_performance(staff, show, starts_at="2026-04-10T20:15", price="24.5")

    assert answer.status_code == 303
    added = [p for p in site.performances("zwanenmeer") if p.status is PerformanceStatus.DRAFT]
    assert len(added) == 1
    assert added[0].starts_at == datetime(2026, 4, 10, 18, 15, tzinfo=UTC)  # summer time
    assert (added[0].price, added[0].capacity, added[0].hall) == (Money(2450), 80, "Kleine zaal")
    assert "Concept" in staff.get(f"{SHOWS}/{show}").text


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"starts_at": "2026-02-30T20:00"}, "starts_at"),
        ({"starts_at": "morgen"}, "starts_at"),
        ({"starts_at": ""}, "starts_at"),
        ({"starts_at": "2025-01-01T20:00"}, "starts_at"),
        ({"starts_at": "2026-03-29T02:30"}, "starts_at"),
        ({"price": "-5"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "12,505"}, "price"),
        ({"price": "twaalf"}, "price"),
        ({"price": "9" * 50}, "price"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "-10"}, "capacity"),
        ({"capacity": "10.5"}, "capacity"),
        ({"capacity": "99999999999999999999"}, "capacity"),
        ({"hall": "z" * 1000}, "hall"),
    ],
)
def test_hostile_performance_input_is_answered_next_to_the_field(
    site: Site, staff: TestClient, fields: dict[str, str], bad: str
) -> None:
    answer = add_performance(staff, show_id(site, "zwanenmeer"), **fields)

    assert answer.status_code == 422
    assert field_error(answer.text, f"nieuw-{bad}")
    assert 'value="Kleine zaal"' in answer.text or bad == "hall"
    assert site.count("performances") == 9


def test_publishing_makes_it_bookable_and_unpublishing_hides_it(
    site: Site, staff: TestClient
) -> None:
    add_performance(staff, show_id(site, "zwanenmeer"))
    added = next(p for p in site.performances("zwanenmeer") if p.status is PerformanceStatus.DRAFT)

    assert act(staff, added.id, "publiceren").status_code == 303
    assert f'value="{added.id}"' in staff.get("/voorstellingen/zwanenmeer").text
    assert act(staff, added.id, "concept").status_code == 303
    assert f'value="{added.id}"' not in staff.get("/voorstellingen/zwanenmeer").text
    assert site.performance(added.id).status is PerformanceStatus.DRAFT


def test_an_invalid_transition_is_explained(site: Site, staff: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]

    twice = act(staff, performance.id, "publiceren")
    archive = act(staff, performance.id, "archiveren")
    unknown = act(staff, performance.id, "opblazen")

    assert twice.status_code == 409
    assert "Alleen een concept" in twice.text
    assert archive.status_code == 409
    assert "Annuleer" in archive.text
    assert unknown.status_code == 404
    assert site.performance(performance.id).status is PerformanceStatus.PUBLISHED


def test_unpublishing_after_a_sale_is_refused(site: Site, staff: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(staff, performance.id, 1)
    check_out(staff)

    answer = act(staff, performance.id, "concept")

    assert answer.status_code == 409
    assert "al kaarten verkocht of gereserveerd" in answer.text


def test_cancelling_is_refused_while_there_is_a_paid_order(site: Site, staff: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    with site.client() as buyer:
        pay_an_order(site, buyer, performance.id)

    answer = act(staff, performance.id, "annuleren")

    assert answer.status_code == 409
    assert "1 betaalde bestelling" in answer.text
    assert "Betaal die eerst terug" in answer.text
    assert site.performance(performance.id).status is PerformanceStatus.PUBLISHED


def test_cancelling_cancels_pending_orders_and_frees_their_seats(
    site: Site, staff: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[1]
    with site.client() as buyer:
        add_to_cart(buyer, performance.id, 4)
        check_out(buyer)

    answer = act(staff, performance.id, "annuleren")

    assert answer.status_code == 303
    page = staff.get(answer.headers["location"])
    assert "1 onbetaalde bestelling(en) zijn geannuleerd" in page.text
    cancelled = site.performance(performance.id)
    assert cancelled.status is PerformanceStatus.CANCELLED
    assert cancelled.available_seats == cancelled.capacity
    assert site.count("orders", status="cancelled") == 1
    assert f'value="{performance.id}"' not in staff.get("/voorstellingen/gebroeders-mierlo").text


def test_editing_a_performance_keeps_free_seats_consistent(site: Site, staff: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(staff, performance.id, 5)
    check_out(staff)
    page = f"/beheer/uitvoeringen/{performance.id}"
    form = staff.get(page).text
    starts_at = re.search(r'name="starts_at" type="datetime-local" value="([^"]+)"', form)
    assert starts_at is not None

    too_low = staff.post(
        page,
        data={
            "csrf_token": csrf_token(form),
            "starts_at": starts_at.group(1),
            "price": "19,95",
            "capacity": "4",
            "hall": "",
        },
    )
    fine = staff.post(
        page,
        data={
            "csrf_token": csrf_token(form),
            "starts_at": starts_at.group(1),
            "price": "19,95",
            "capacity": "5",
            "hall": "",
        },
    )

    assert too_low.status_code == 422
    assert "5 plaatsen verkocht of gereserveerd" in field_error(too_low.text, "capacity")
    assert 'value="19,95"' in too_low.text
    assert fine.status_code == 303
    stored = site.performance(performance.id)
    assert (stored.capacity, stored.available_seats, stored.price) == (5, 0, Money(1995))
    assert stored.starts_at == performance.starts_at


# --- images --------------------------------------------------------------------------------------


def test_an_uploaded_image_is_stored_processed_and_shown(site: Site, staff: TestClient) -> None:
    show = show_id(site, "zwanenmeer")

    answer = upload(staff, show, png())

    assert answer.status_code == 303
    assert "wordt nog verwerkt" in staff.get(f"{SHOWS}/{show}").text
    jobs = site.jobs("image_processing")
    assert len(jobs) == 1
    site.container.images().processing_job(ProcessImage.from_payload(jobs[0].data))
    page = staff.get(f"{SHOWS}/{show}").text
    image = re.search(r'<img src="(/afbeeldingen/[^"]+/sm\.jpg)" alt="[^"]+"', page)
    assert image is not None
    assert staff.get(image.group(1)).headers["content-type"] == "image/jpeg"


def test_a_jpeg_is_accepted_too(site: Site, staff: TestClient) -> None:
    assert upload(staff, show_id(site, "zwanenmeer"), jpeg(), "foto.jpg").status_code == 303
    assert site.count("images") == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Dit is gewoon tekst, geen foto.\n" * 20, "geen bruikbare afbeelding"),
        (b"", "leeg"),
    ],
)
def test_files_that_are_not_images_are_refused(
    site: Site, staff: TestClient, data: bytes, message: str
) -> None:
    show = show_id(site, "zwanenmeer")

    answer = upload(staff, show, data, "vakantie.jpg")

    assert answer.status_code == 422
    assert message in answer.text
    assert 'enctype="multipart/form-data"' in answer.text
    assert site.count("images") == 0


def test_an_image_just_over_the_limit_is_refused_with_413(site: Site, staff: TestClient) -> None:
    data = png() + b"\x00" * (10 * 1024 * 1024)

    answer = upload(staff, show_id(site, "zwanenmeer"), data)

    assert answer.status_code == 413
    assert "groter dan 10 MB" in answer.text
    assert site.count("images") == 0


def test_a_body_far_over_the_limit_is_refused_before_reading(site: Site, staff: TestClient) -> None:
    answer = upload(staff, show_id(site, "zwanenmeer"), b"\x89PNG" + b"\x00" * (11 * 1024 * 1024))

    assert answer.status_code == 413
    assert site.count("images") == 0


def test_only_the_upload_route_takes_files(site: Site, staff: TestClient) -> None:
    show = show_id(site, "zwanenmeer")

    answer = staff.post(
        f"{SHOWS}/{show}/uitvoeringen",
        data={"csrf_token": token(staff, f"{SHOWS}/{show}"), "price": "10"},
        files={"capacity": ("x.png", png(), "image/png")},
    )
    large = staff.post(
        f"{SHOWS}/{show}",
        data={"csrf_token": token(staff, f"{SHOWS}/{show}"), "description": "d" * 100_000},
    )

    assert answer.status_code == 400
    assert large.status_code == 413
    assert site.count("performances") == 9


def test_an_upload_without_a_file_or_token_is_refused(site: Site, staff: TestClient) -> None:
    show = show_id(site, "zwanenmeer")

    no_file = staff.post(f"{SHOWS}/{show}/afbeelding", data={"csrf_token": token(staff)})
    no_token = staff.post(
        f"{SHOWS}/{show}/afbeelding", files={"afbeelding": ("a.png", png(), "image/png")}
    )

    assert no_file.status_code == 422
    assert "Kies een afbeelding" in no_file.text
    assert no_token.status_code == 403
    assert site.count("images") == 0


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00", "9999-12-31T23:59", "2101-01-01T20:00"])
def test_a_year_out_of_range_is_answered_next_to_the_field(
    site: Site, staff: TestClient, starts_at: str
) -> None:
    answer = add_performance(staff, show_id(site, "zwanenmeer"), starts_at=starts_at)

    assert answer.status_code == 422
    assert field_error(answer.text, "nieuw-starts_at") == "Kies een jaar van 2000 tot en met 2100."
    assert site.count("performances") == 9


def test_editing_a_cancelled_performance_shows_its_page_with_the_reason(
    site: Site, staff: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[1]
    page = f"/beheer/uitvoeringen/{performance.id}"
    form = staff.get(page).text
    starts_at = re.search(r'name="starts_at" type="datetime-local" value="([^"]+)"', form)
    assert starts_at is not None
    assert act(staff, performance.id, "annuleren").status_code == 303

    answer = staff.post(
        page,
        data={
            "csrf_token": csrf_token(form),
            "starts_at": starts_at.group(1),
            "price": "19,95",
            "capacity": "50",
            "hall": "Grote zaal",
        },
    )

    assert answer.status_code == 409
    assert "<h1>De Gebroeders Mierlo: " in answer.text, "the performance's own page"
    assert (
        '<p class="flash flash-error" role="alert">Een geannuleerde of gearchiveerde voorstelling'
        " kan niet meer veranderen.</p>" in answer.text
    )
    stored = site.performance(performance.id)
    assert (stored.status, stored.price) == (PerformanceStatus.CANCELLED, performance.price)


def _limits(html: str) -> dict[str, int]:
    """Each form field's name and maxlength (inputs and textareas)."""
    found = {}
    for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        most = re.search(r'maxlength="(\d+)"', tag)
        if name and most:
            found[name.group(1)] = int(most.group(1))
    return found


def test_the_show_forms_limit_each_field_to_what_the_catalogue_accepts(site: Site, staff):
    expected = {
        "title": staff_catalog.MAX_TITLE,
        "slug": staff_catalog.MAX_SLUG,
        "description": staff_catalog.MAX_DESCRIPTION,
        "genre": staff_catalog.MAX_GENRE,
        "age_advice": staff_catalog.MAX_AGE_ADVICE,
        "vat_rate": MAX_VAT_TEXT,
    }
    assert _limits(staff.get(SHOWS + "/nieuw").text) == expected
    edit = staff.get(f"{SHOWS}/{show_id(site, 'gebroeders-mierlo')}").text
    assert _limits(edit).items() >= {**expected, "hall": staff_catalog.MAX_HALL}.items()
    assert 'name="title" type="text" value="De Gebroeders Mierlo"' in edit
    assert 'name="vat_rate" type="text" value="9,00"' in edit
    assert 'name="duration_minutes" type="number" value="110"' in edit

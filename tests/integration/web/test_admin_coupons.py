"""Staff coupon pages over HTTP: list with usage, create, edit, deactivate, hostile input."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from starlette.testclient import TestClient

from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.money import Money
from tests.integration.web.web_support import (
    Site,
    add_to_cart,
    check_out,
    csrf_token,
    log_in_as_staff,
)

COUPONS = "/beheer/kortingscodes"


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def coupon(site: Site, code: str) -> Coupon:
    with site.container.uow() as uow:
        found = uow.coupons.get_by_code(code)
    assert found is not None
    return found


def submit(client: TestClient, path: str = COUPONS + "/nieuw", **fields: str) -> httpx.Response:
    data = {
        "csrf_token": csrf_token(client.get(COUPONS + "/nieuw").text),
        "code": "lente26",
        "kind": "percentage",
        "value": "15",
        "valid_from": "2026-03-20T00:00",
        "valid_until": "2026-06-21T00:00",
        "max_usages": "100",
        "minimum_order": "20,00",
        "description": "Lentekorting",
    }
    data.update(fields)
    return client.post(path, data=data)


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-fout">([^<]*)</p>', html)
    assert found is not None, f"no error next to {field_id}"
    return found.group(1)


def test_the_list_shows_codes_with_their_usage(site: Site, staff: TestClient) -> None:
    add_to_cart(staff, site.performances("gebroeders-mierlo")[0].id, 2)
    check_out(staff, coupon="welkom10")

    page = staff.get(COUPONS)

    assert page.status_code == 200
    row = re.search(r"WELKOM10</a>.*?</tr>", page.text, flags=re.S)
    assert row is not None
    assert "10%" in row.group(0)
    assert '<td class="amount">1</td>' in row.group(0)
    assert "Actief" in row.group(0)


def test_creating_a_coupon_normalises_the_code_and_stores_utc(
    site: Site, staff: TestClient
) -> None:
    answer = submit(staff)

    assert answer.status_code == 303
    created = coupon(site, "LENTE26")
    assert created.code == "LENTE26"
    assert (created.kind, created.value, created.max_usages) == (
        DiscountKind.PERCENTAGE,
        Decimal(15),
        100,
    )
    assert created.valid_from == datetime(2026, 3, 19, 23, 0, tzinfo=UTC)
    assert created.valid_until == datetime(2026, 6, 20, 22, 0, tzinfo=UTC)
    assert created.minimum_order == Money(2000)
    assert "LENTE26" in staff.get(COUPONS).text


def test_a_fixed_amount_without_limits(site: Site, staff: TestClient) -> None:
    answer = submit(
        staff,
        code="KASSA5",
        kind="fixed",
        value="5,00",
        valid_from="",
        valid_until="",
        max_usages="",
        minimum_order="",
    )

    assert answer.status_code == 303
    created = coupon(site, "KASSA5")
    assert (created.kind, created.value, created.max_usages, created.minimum_order) == (
        DiscountKind.FIXED,
        Decimal(500),
        None,
        Money(0),
    )
    assert "€ 5,00" in staff.get(COUPONS).text


def test_a_duplicate_code_shows_the_form_again_with_the_input(
    site: Site, staff: TestClient
) -> None:
    answer = submit(staff, code="Welkom10", description="Dubbel")

    assert answer.status_code == 422
    assert "bestaat al" in field_error(answer.text, "code")
    assert 'value="Welkom10"' in answer.text
    assert 'value="Dubbel"' in answer.text
    assert site.count("coupons") == 1


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"code": "x" * 500}, "code"),
        ({"code": "met spatie"}, "code"),
        ({"code": ""}, "code"),
        ({"kind": "gratis"}, "kind"),
        ({"value": "0"}, "value"),
        ({"value": "101"}, "value"),
        ({"value": "-10"}, "value"),
        ({"value": "veel"}, "value"),
        ({"kind": "fixed", "value": "-5,00"}, "value"),
        ({"valid_from": "2026-13-01T00:00"}, "valid_from"),
        ({"valid_until": "gisteren"}, "valid_until"),
        ({"valid_until": "2026-03-01T00:00"}, "valid_until"),
        ({"max_usages": "0"}, "max_usages"),
        ({"max_usages": "-3"}, "max_usages"),
        ({"max_usages": "1e9"}, "max_usages"),
        ({"minimum_order": "-1"}, "minimum_order"),
        ({"description": "d" * 10_000}, "description"),
    ],
)
def test_hostile_coupon_input_is_answered_next_to_the_field(
    site: Site, staff: TestClient, fields: dict[str, str], bad: str
) -> None:
    answer = submit(staff, **fields)

    assert answer.status_code == 422
    assert field_error(answer.text, bad)
    assert site.count("coupons") == 1


def test_editing_a_coupon_keeps_its_usage(site: Site, staff: TestClient) -> None:
    add_to_cart(staff, site.performances("gebroeders-mierlo")[0].id, 1)
    check_out(staff, coupon="WELKOM10")
    welkom = coupon(site, "WELKOM10")
    page = staff.get(f"{COUPONS}/{welkom.id}")
    assert 'value="10"' in page.text

    too_low = submit(staff, f"{COUPONS}/{welkom.id}", code="WELKOM10", max_usages="0")
    accepted = submit(staff, f"{COUPONS}/{welkom.id}", code="WELKOM10", value="12,5")

    assert too_low.status_code == 422
    assert accepted.status_code == 303
    edited = coupon(site, "WELKOM10")
    assert (edited.value, edited.usage_count, edited.max_usages) == (Decimal("12.5"), 1, 100)


def test_deactivating_stops_the_code_at_checkout(site: Site, staff: TestClient) -> None:
    welkom = coupon(site, "WELKOM10")
    page = staff.get(COUPONS)

    answer = staff.post(
        f"{COUPONS}/{welkom.id}/uitschakelen", data={"csrf_token": csrf_token(page.text)}
    )

    assert answer.status_code == 303
    assert "Uitgeschakeld" in staff.get(COUPONS).text
    add_to_cart(staff, site.performances("gebroeders-mierlo")[0].id, 1)
    refused = check_out(staff, coupon="WELKOM10")
    assert refused.status_code == 422
    assert site.count("orders") == 0

    staff.post(
        f"{COUPONS}/{welkom.id}/inschakelen",
        data={"csrf_token": csrf_token(staff.get(COUPONS).text)},
    )
    assert coupon(site, "WELKOM10").active is True


def test_without_token_or_staff_nothing_changes(site: Site, client: TestClient) -> None:
    welkom = coupon(site, "WELKOM10")
    assert client.get(COUPONS).status_code == 303

    log_in_as_staff(site, client)
    answer = client.post(f"{COUPONS}/{welkom.id}/uitschakelen", data={})

    assert answer.status_code == 403
    assert coupon(site, "WELKOM10").active is True
    assert client.get(f"{COUPONS}/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("field", "moment"),
    [("valid_from", "0001-01-01T00:00"), ("valid_until", "9999-12-31T23:59")],
)
def test_a_year_out_of_range_is_answered_next_to_the_field(
    site: Site, staff: TestClient, field: str, moment: str
) -> None:
    answer = submit(staff, **{field: moment})

    assert answer.status_code == 422
    assert field_error(answer.text, field) == "Kies een jaar van 2000 tot en met 2100."
    assert site.count("coupons") == 1

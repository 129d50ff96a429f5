"""Reports over HTTP: the staff pages, the exports (CSV and Excel open and add up), the staff
JSON, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from starlette.testclient import TestClient

from tests.integration.web.web_support import log_in, log_in_as_staff
from tests.report_seed import ids, seed

FEBRUARY = "/beheer/rapporten?soort=month&waarde=2026-02"
PAID_IN_FEBRUARY = 5625 + 8500 + 5000 + 7167


@pytest.fixture
def seeded(make_site):
    site = make_site(demo=False)
    return site, seed(site.container.uow)


@pytest.fixture
def staff(seeded) -> TestClient:
    site, _seeded = seeded
    with site.client() as client:
        log_in_as_staff(site, client)
        yield client


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, name
    return found[1].strip()


def test_the_period_page_shows_totals_charts_and_their_tables(staff: TestClient) -> None:
    page = staff.get(FEBRUARY)

    assert page.status_code == 200
    html = page.text
    assert (figure(html, "orders"), figure(html, "tickets")) == ("8", "12")
    assert figure(html, "revenue") == "€ 262,92"
    assert figure(html, "refunds") == "€ 90,00"
    assert html.count("<svg") == 2
    assert html.count("<title") >= 3
    assert "Cabaret &lt;Avond&gt;" in html
    assert "<Avond>" not in html
    assert "<table" in html
    assert "Bezetting" in html


def test_a_wrong_period_is_a_clear_400(staff: TestClient) -> None:
    for query in (
        "soort=maand",
        "soort=month&waarde=2026-13",
        "soort=range&waarde=2026-03-01&tot=2026-01-01",
        "soort=week&waarde=" + "9" * 200,
    ):
        answer = staff.get(f"/beheer/rapporten?{query}")
        assert answer.status_code == 400, query


def test_the_performance_page_shows_seats_money_and_the_sales_run(
    staff: TestClient, seeded
) -> None:
    _site, data = seeded
    html = staff.get(f"/beheer/rapporten/uitvoeringen/{ids(data, 'a1')}").text

    assert [figure(html, n) for n in ("capacity", "sold", "held", "free")] == ["50", "5", "2", "43"]
    assert figure(html, "admitted") == "0"  # nobody scanned in yet
    assert "KORT10" in html
    assert "mollie" in html
    assert "Vrijkaart" in html
    assert 'id="verkoop"' in html
    assert "dagen voor de aanvang" in html
    assert (
        staff.get("/beheer/rapporten/uitvoeringen/00000000-0000-4000-8000-000000000000").status_code
        == 404
    )


def _csv_rows(answer) -> list[dict[str, str]]:
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = io.StringIO(text[1:], newline="")
    assert next(csv.reader(lines))[0].startswith("# btw per regel")
    return list(csv.DictReader(lines))


def test_exports_open_and_add_up_to_the_report(staff: TestClient, seeded) -> None:
    _site, data = seeded
    rows = _csv_rows(staff.get("/beheer/exports/payments.csv?van=2026-02-01&tot=2026-02-28"))
    payments = [r for r in rows if r["soort"] == "betaling"]
    assert sum(Decimal(r["bruto (incl. btw)"]) for r in payments) == Decimal(PAID_IN_FEBRUARY) / 100
    for row in rows:
        assert Decimal(row["netto"]) + Decimal(row["btw"]) == Decimal(row["bruto (incl. btw)"])
    tickets = _csv_rows(staff.get(f"/beheer/exports/tickets.csv?uitvoering={ids(data, 'a2')}"))
    assert [r["betaald (incl. btw)"] for r in tickets] == ["23.89"] * 3

    answer = staff.get("/beheer/exports/tickets.xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    header, body = table[1], table[2:]
    paid = header.index("betaald (incl. btw)")
    assert len(body) == 17
    money_in = [r for r in body if r[header.index("status kaart")] in ("valid", "refunded")]
    assert sum(Decimal(str(r[paid])) for r in money_in) == Decimal(PAID_IN_FEBRUARY + 3000) / 100


def test_export_filters_are_checked(staff: TestClient) -> None:
    assert staff.get("/beheer/exports/tickets.csv?van=gisteren").status_code == 400
    assert staff.get("/beheer/exports/tickets.csv?status=betaald").status_code == 400
    assert staff.get("/beheer/exports/tickets.csv?voorstelling=12").status_code == 400
    assert staff.get("/beheer/exports/geheimen.csv").status_code == 404
    assert staff.get("/beheer/exports/tickets.pdf").status_code == 404
    assert staff.get("/beheer/exports").status_code == 200


def test_the_staff_json_gives_the_same_figures(staff: TestClient, seeded) -> None:
    _site, data = seeded
    period = staff.get("/api/beheer/rapporten/periode?soort=month&waarde=2026-02").json()
    assert period["totals"]["revenue_cents"] == 26292
    assert period["shows"][0]["title"] == "Hamlet"
    performance = staff.get(f"/api/beheer/rapporten/uitvoeringen/{ids(data, 'a1')}").json()
    assert (performance["sold"], performance["held"], performance["admitted"]) == (5, 2, 0)
    assert staff.get("/api/beheer/rapporten/periode?soort=season&waarde=2026").status_code == 400


def test_only_staff_see_reports(seeded) -> None:
    site, _data = seeded
    with site.client() as anonymous:
        assert anonymous.get(FEBRUARY).status_code == 303
        assert anonymous.get("/beheer/exports/tickets.csv").status_code == 303
        assert anonymous.get("/api/beheer/rapporten/periode").status_code == 401
    with site.client() as visitor:
        site.container.accounts().register(
            "bezoeker@example.nl", "Bezoeker", "een-lang-wachtwoord-1"
        )
        log_in(visitor, "bezoeker@example.nl", "een-lang-wachtwoord-1")
        assert visitor.get(FEBRUARY).status_code == 403
        assert visitor.get("/api/beheer/rapporten/periode").status_code == 403

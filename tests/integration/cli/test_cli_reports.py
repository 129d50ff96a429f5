"""`mierloos report period | performance | export` over the seed data, on SQLite and Postgres."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from mierloos_adapters.memory import FixedClock
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from tests.integration.cli.test_cli_jobs import module_cli  # noqa: F401 (a fixture)
from tests.integration.conftest import empty_all_tables
from tests.report_seed import ids, seed


@pytest.fixture
def seeded(module_cli):  # noqa: F811
    empty_all_tables(module_cli.engine)
    return module_cli, seed(lambda: SqlUnitOfWork(module_cli.engine, FixedClock()))


def test_the_period_report_as_json_and_as_text(seeded):
    cli, _data = seeded
    answer = cli("report", "period", "--from", "2026-02-01", "--to", "2026-02-28", "--json")

    assert answer.exit_code == 0, answer.output
    report = json.loads(answer.output)
    assert report["report"]["totals"]["revenue_cents"] == 26292
    assert report["report"]["totals"]["refunds_cents"] == 9000
    assert [m[1] for m in report["months"]] == [26292]
    text = cli("report", "period", "--from", "2026-02-01", "--to", "2026-02-28")
    assert "orders 8 (paid 5), tickets 12" in text.output


def test_the_performance_report_and_wrong_input(seeded):
    cli, data = seeded
    answer = cli("report", "performance", str(ids(data, "a1")), "--json")

    assert answer.exit_code == 0, answer.output
    found = json.loads(answer.output)
    assert (found["sold"], found["held"], found["admitted"]) == (5, 2, 0)
    assert cli("report", "performance", "geen-id").exit_code == 2
    missing = cli("report", "performance", "00000000-0000-4000-8000-000000000000")
    assert missing.exit_code == 2
    assert cli("report", "period", "--from", "2026-02-30", "--to", "2026-03-01").exit_code == 2
    assert cli("report", "period", "--from", "2026-03-01", "--to", "2026-02-01").exit_code == 2


def test_exports_to_a_file_open_and_add_up(seeded, tmp_path):
    cli, data = seeded
    target = tmp_path / "deurlijst.csv"
    answer = cli(
        "report", "export", "tickets", "--performance", str(ids(data, "a2")), "-o", str(target)
    )

    assert answer.exit_code == 0, answer.output
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))[2:]
    assert len(rows) == 3
    book = tmp_path / "betalingen.xlsx"
    made = cli(
        "report", "export", "payments", "--format", "xlsx", "--from", "2026-02-01", "-o", str(book)
    )
    assert made.exit_code == 0, made.output
    table = list(openpyxl.load_workbook(book, read_only=True).active.iter_rows(values_only=True))
    header, body = table[1], table[2:]
    gross = header.index("bruto (incl. btw)")
    assert (
        sum(Decimal(str(r[gross])) for r in body) == Decimal(5625 + 8500 + 5000 + 7167 - 9000) / 100
    )

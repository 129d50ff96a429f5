"""The staff jobs dashboard over HTTP: whole-table counts, filters, pages, details, retries."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select
from starlette.testclient import TestClient

from mierloos_adapters.sqlalchemy.tables import jobs as jobs_table
from mierloos_core.model.jobs import JobStatus, JobType
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import (
    STAFF_PASSWORD,
    Site,
    csrf_token,
    log_in,
    log_in_as_staff,
)


def add_jobs(
    site: Site,
    count: int,
    *,
    status: JobStatus = JobStatus.COMPLETED,
    job_type: JobType = JobType.EMAIL,
    age: timedelta = timedelta(0),
    **columns: Any,
) -> list[uuid.UUID]:
    """`count` jobs created `age` before the site's clock (each a second apart, newest last)."""
    now = site.clock.now()
    rows = []
    for n in range(count):
        created = now - age - timedelta(seconds=count - n)
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "type": job_type.value,
            "queue_name": "default",
            "status": status.value,
            "priority": 0,
            "data": {"to": f"klant{n}@example.nl"},
            "execution_count": 5 if status is JobStatus.FAILED else 1,
            "created_at": created,
            "updated_at": created,
        }
        row.update(columns)
        rows.append(row)
    with site.container.engine().begin() as connection:
        connection.execute(insert(jobs_table), rows)
    return [row["id"] for row in rows]


def job_row(site: Site, job_id: uuid.UUID) -> Any:
    with site.container.engine().connect() as connection:
        return connection.execute(select(jobs_table).where(jobs_table.c.id == job_id)).one()


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    """A staff member's browser, with the jobs table emptied of what setting up queued."""
    log_in_as_staff(site, client)
    with site.container.engine().begin() as connection:
        connection.execute(delete(jobs_table))
    return client


def status_counts(html: str) -> dict[str, int]:
    return {
        status: int(count)
        for status, count in re.findall(r'<dd data-status="(\w+)">(\d+)</dd>', html)
    }


def listed_job_ids(html: str) -> list[str]:
    return re.findall(r'<a href="/beheer/taken/([0-9a-f-]{36})">', html)


def test_the_dashboard_counts_the_whole_table_not_the_newest_hundred(
    site: Site, staff: TestClient
) -> None:
    add_jobs(site, 40, status=JobStatus.FAILED, age=timedelta(hours=3))
    add_jobs(site, 7, status=JobStatus.FAILED, job_type=JobType.PDF_GENERATION)
    add_jobs(site, 130, status=JobStatus.COMPLETED, age=timedelta(hours=2))
    add_jobs(site, 110, status=JobStatus.PENDING, job_type=JobType.PAYMENT_WEBHOOK)

    page = staff.get("/beheer/taken")

    assert page.status_code == 200
    assert status_counts(page.text) == {
        "pending": 110,
        "processing": 0,
        "completed": 130,
        "failed": 47,
    }
    assert "<dt>Totaal</dt><dd>287</dd>" in page.text
    assert "<dt>Mislukt in het afgelopen uur</dt><dd>7</dd>" in page.text
    # The oldest pending job was created 110 s before now.
    assert "<dt>Oudste wachtende taak</dt><dd>1 min 50 s</dd>" in page.text
    pdf_row = re.search(
        r'type=pdf_generation">Kaarten maken \(pdf\)</a></th>(.*?)</tr>', page.text, re.S
    )
    assert pdf_row is not None
    assert re.findall(r"<td>(\d+)</td>", pdf_row.group(1)) == ["0", "0", "0", "7"]
    assert "287 taken; pagina 1 van 6." in page.text


def test_the_list_filters_by_status_and_type_and_pages_newest_first(
    site: Site, staff: TestClient
) -> None:
    failed_mail = add_jobs(site, 60, status=JobStatus.FAILED, age=timedelta(hours=1))
    add_jobs(site, 5, status=JobStatus.FAILED, job_type=JobType.PDF_GENERATION)
    add_jobs(site, 20, status=JobStatus.COMPLETED)

    first = staff.get("/beheer/taken?status=failed&type=email")
    second = staff.get("/beheer/taken?status=failed&type=email&pagina=2")

    assert "60 taken met dit filter; pagina 1 van 2." in first.text
    assert listed_job_ids(first.text) == [str(i) for i in reversed(failed_mail[10:])]
    assert listed_job_ids(second.text) == [str(i) for i in reversed(failed_mail[:10])]
    assert 'href="/beheer/taken?status=failed&amp;type=email&amp;pagina=2"' in first.text
    assert 'href="/beheer/taken?status=failed&amp;type=email"' in second.text
    assert "65 taken met dit filter" in staff.get("/beheer/taken?status=failed").text
    assert "5 taken met dit filter" in staff.get("/beheer/taken?type=pdf_generation").text
    past_the_end = staff.get("/beheer/taken?status=failed&pagina=9")
    assert past_the_end.status_code == 200
    assert "Geen taken gevonden." in past_the_end.text


@pytest.mark.parametrize(
    "query",
    ["status=kapot", "type=%3Cscript%3E", "pagina=0", "pagina=twee", "pagina=-1", "pagina=9999999"],
)
def test_an_invalid_filter_is_refused_with_a_message(staff: TestClient, query: str) -> None:
    answer = staff.get(f"/beheer/taken?{query}")

    assert answer.status_code == 400
    assert "<script>" not in answer.text


def test_the_detail_page_shows_payload_errors_and_lease_escaped(
    site: Site, staff: TestClient
) -> None:
    lease_until = site.clock.now() + timedelta(minutes=2)
    (job_id,) = add_jobs(
        site,
        1,
        status=JobStatus.FAILED,
        data={
            "template": "password_reset",
            "to": "an@example.nl",
            "context": {"name": "<script>alert(1)</script>", "reset_nonce": "geheim-nonce"},
        },
        error_message="SMTP <weigert> alles",
        lease_owner="worker-7",
        lease_expires_at=lease_until,
        errors=[
            {"attempt": 1, "at": site.clock.now().isoformat(), "error": "timeout", "worker": "w-1"},
            {"attempt": 2, "at": site.clock.now().isoformat(), "error": "refused", "worker": "w-2"},
        ],
    )

    page = staff.get(f"/beheer/taken/{job_id}")

    assert page.status_code == 200
    assert "an@example.nl" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text
    assert "geheim-nonce" not in page.text
    assert "(verborgen)" in page.text
    assert "SMTP &lt;weigert&gt; alles" in page.text
    assert "worker-7" in page.text
    assert "01-03-2026 13:02:00" in page.text  # the lease's expiry, in Amsterdam time
    assert re.search(r"<td>1</td>\s*<td>01-03-2026 13:00:00</td>\s*<td>w-1</td>", page.text)
    assert re.search(r"<td>2</td>\s*<td>01-03-2026 13:00:00</td>\s*<td>w-2</td>", page.text)
    assert "refused" in page.text
    assert "Opnieuw proberen" in page.text
    assert accessibility_problems(page.text) == []


def test_the_detail_of_an_unknown_or_malformed_job_is_not_found(staff: TestClient) -> None:
    assert staff.get(f"/beheer/taken/{uuid.uuid4()}").status_code == 404
    assert staff.get("/beheer/taken/niet-een-id").status_code == 404


def test_retrying_a_failed_job_makes_it_pending_and_due_now(site: Site, staff: TestClient) -> None:
    add_jobs(site, 3, status=JobStatus.FAILED, age=timedelta(hours=2))
    (job_id,) = add_jobs(site, 1, status=JobStatus.FAILED, lease_owner="worker-dood")
    site.clock.advance(timedelta(minutes=10))
    detail = staff.get(f"/beheer/taken/{job_id}")

    answer = staff.post(
        f"/beheer/taken/{job_id}/opnieuw", data={"csrf_token": csrf_token(detail.text)}
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/beheer/taken/{job_id}"
    row = job_row(site, job_id)
    assert row.status == "pending"
    assert row.next_retry_at == site.clock.now()
    assert row.max_attempts == row.execution_count + 1
    assert row.lease_owner is None
    shown = staff.get(answer.headers["location"])
    assert "staat weer in de wachtrij" in shown.text
    assert "Opnieuw proberen" not in shown.text
    dashboard = staff.get("/beheer/taken")
    assert status_counts(dashboard.text)["pending"] == 1
    assert status_counts(dashboard.text)["failed"] == 3
    assert "<dt>Oudste wachtende taak</dt><dd>10 min 1 s</dd>" in dashboard.text


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.COMPLETED])
def test_retrying_a_job_that_is_not_failed_changes_nothing(
    site: Site, staff: TestClient, status: JobStatus
) -> None:
    (job_id,) = add_jobs(site, 1, status=status, lease_owner="worker-1")
    before = job_row(site, job_id)
    site.clock.advance(timedelta(minutes=1))
    token = csrf_token(staff.get("/beheer/taken").text)

    answer = staff.post(f"/beheer/taken/{job_id}/opnieuw", data={"csrf_token": token})

    assert answer.status_code == 303
    assert job_row(site, job_id) == before
    assert "niet mislukt" in staff.get(answer.headers["location"]).text


def test_retrying_an_unknown_job_is_not_found(site: Site, staff: TestClient) -> None:
    token = csrf_token(staff.get("/beheer/taken").text)

    answer = staff.post(f"/beheer/taken/{uuid.uuid4()}/opnieuw", data={"csrf_token": token})

    assert answer.status_code == 404


def test_a_retry_without_the_csrf_token_is_refused(site: Site, staff: TestClient) -> None:
    (job_id,) = add_jobs(site, 1, status=JobStatus.FAILED)

    answer = staff.post(f"/beheer/taken/{job_id}/opnieuw", data={"csrf_token": "vals"})

    assert answer.status_code == 403
    assert job_row(site, job_id).status == "failed"


def test_the_dashboard_passes_the_accessibility_check(site: Site, staff: TestClient) -> None:
    add_jobs(site, 120, status=JobStatus.FAILED)

    for path in ("/beheer/taken", "/beheer/taken?status=failed&pagina=2"):
        page = staff.get(path)
        assert page.status_code == 200
        assert accessibility_problems(page.text) == []


JOB_ROUTES = [
    ("GET", "/beheer/taken"),
    ("GET", "/beheer/taken/{id}"),
    ("POST", "/beheer/taken/{id}/opnieuw"),
]


@pytest.mark.parametrize(("method", "path"), JOB_ROUTES)
def test_visitors_are_sent_to_log_in_and_visitor_accounts_refused(
    site: Site, method: str, path: str
) -> None:
    (job_id,) = add_jobs(site, 1, status=JobStatus.FAILED)
    url = path.format(id=job_id)
    with site.client() as anonymous:
        token = csrf_token(anonymous.get("/account/inloggen").text)
        answer = anonymous.request(method, url, data={"csrf_token": token})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/account/inloggen?next=")
    site.container.accounts().register("bezoeker@example.org", "Bezoeker", STAFF_PASSWORD)
    with site.client() as visitor:
        log_in(visitor, "bezoeker@example.org", STAFF_PASSWORD)
        token = csrf_token(visitor.get("/").text)  # from the header's log-out form
        answer = visitor.request(method, url, data={"csrf_token": token})
        assert answer.status_code == 403
    assert job_row(site, job_id).status == "failed"

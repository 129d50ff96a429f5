"""`mierloos jobs list | retry | purge` on the embedded SQLite database and on Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, insert, select

from mierloos_adapters.sqlalchemy import make_engine
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_entrypoints.cli import main
from tests.integration.cli.conftest import SECRET_KEY
from tests.integration.conftest import empty_all_tables

CLEARED = ("DATABASE_URL", "SECRET_KEY", "BASE_URL", "R2_BUCKET_NAME", "S3_ENDPOINT_URL")


class Cli:
    def __init__(self, env: dict[str, str], engine: Engine) -> None:
        self.env = env
        self.engine = engine

    def __call__(self, *args: str) -> Result:
        env: dict[str, str | None] = {name: None for name in CLEARED}
        env.update(self.env)
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    def put(
        self, status: str, *, days: float = 0, job_type: str = "email", **fields: Any
    ) -> uuid.UUID:
        at = datetime.now(UTC) - timedelta(days=days)
        job_id = uuid.uuid4()
        with self.engine.begin() as connection:
            connection.execute(
                insert(t.jobs).values(
                    id=job_id,
                    type=job_type,
                    queue_name="default",
                    status=status,
                    data={},
                    execution_count=fields.pop("execution_count", 1),
                    created_at=at - timedelta(seconds=1),
                    updated_at=at,
                    completed_at=at if status == "completed" else None,
                    **fields,
                )
            )
        return job_id

    def status(self, job_id: uuid.UUID) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(t.jobs.c.status).where(t.jobs.c.id == job_id)).scalar()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_cli(request, tmp_path_factory) -> Iterator[Cli]:
    if request.param == "sqlite":
        var = Path(tmp_path_factory.mktemp("cli-var"))
        env = {"MIERLOOS_VAR_DIR": str(var)}
        url = f"sqlite:///{var / 'mierloos.db'}"
    else:
        url = request.getfixturevalue("postgres_cli_url")
        env = {
            "MIERLOOS_VAR_DIR": str(tmp_path_factory.mktemp("cli-pg-var")),
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "MIERLOOS_FAKE_PAYMENTS": "1",
        }
    cli = Cli(env, None)  # type: ignore[arg-type]
    migrated = cli("migrate")
    assert migrated.exit_code == 0, migrated.output
    cli.engine = make_engine(url)
    yield cli
    cli.engine.dispose()


@pytest.fixture
def cli(module_cli: Cli) -> Cli:
    empty_all_tables(module_cli.engine)
    return module_cli


def test_migrate_says_what_it_does_and_is_idempotent(cli):
    again = cli("migrate")

    assert again.exit_code == 0
    assert again.output.splitlines() == ["migrating the database...", "database is up to date"]


def test_jobs_list_prints_the_newest_jobs_as_a_table(cli):
    failed = cli.put(
        "failed",
        days=1,
        error_message='Traceback (most recent call last):\n  File "x.py"\nSMTPError: server down',
        max_attempts=5,
    )
    done = cli.put("completed", days=2, job_type="pdf_generation")

    listed = cli("jobs", "list")

    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == [
        "id",
        "type",
        "status",
        "attempts",
        "created",
        "next",
        "try",
        "error",
    ]
    assert [line.split()[0] for line in lines[1:3]] == [str(failed), str(done)]
    # The exception's own line, not the start of its traceback.
    assert lines[1].endswith("SMTPError: server down")
    assert "Traceback" not in lines[1]
    assert lines[1].split()[1:4] == ["email", "failed", "1/5"]
    assert lines[-1] == "2 of 2 job(s)"


def test_jobs_list_filters_by_status_and_type_and_limits(cli):
    pending = [cli.put("pending", days=n / 10) for n in range(3)]
    cli.put("completed", days=1)
    cli.put("pending", job_type="pdf_generation")

    listed = cli("jobs", "list", "--status", "pending", "--type", "email", "--limit", "2")

    assert listed.exit_code == 0, listed.output
    ids = [line.split()[0] for line in listed.output.splitlines()[1:-1]]
    assert ids == [str(pending[0]), str(pending[1])]
    assert listed.output.splitlines()[-1] == "2 of 3 job(s)"


@pytest.mark.parametrize(
    "args",
    [
        ["jobs", "list", "--status", "lost"],
        ["jobs", "list", "--type", "fax"],
        ["jobs", "list", "--limit", "0"],
        ["jobs", "retry", "not-a-uuid"],
        ["jobs", "retry"],
        ["jobs", "purge"],
        ["jobs", "purge", "--older-than", "-1"],
        ["jobs", "purge", "--older-than", "soon"],
    ],
)
def test_bad_job_command_usage_exits_2(cli, args):
    answer = cli(*args)

    assert answer.exit_code == 2
    assert "Error" in answer.output


def test_jobs_retry_puts_a_failed_job_back_in_the_queue(cli):
    failed = cli.put("failed", execution_count=5)

    answer = cli("jobs", "retry", str(failed))

    assert answer.exit_code == 0, answer.output
    assert answer.output.strip() == f"job {failed} is pending again"
    assert cli.status(failed) == "pending"


@pytest.mark.parametrize("status", ["pending", "processing", "completed"])
def test_jobs_retry_refuses_a_job_that_is_not_failed(cli, status):
    job = cli.put(status)

    answer = cli("jobs", "retry", str(job))

    assert answer.exit_code == 1
    assert f"is {status}, not failed" in answer.stderr
    assert cli.status(job) == status


def test_jobs_retry_of_an_unknown_job_exits_1(cli):
    unknown = uuid.uuid4()

    answer = cli("jobs", "retry", str(unknown))

    assert answer.exit_code == 1
    assert answer.stderr.strip() == f"error: no job {unknown}"


def test_jobs_purge_deletes_only_completed_jobs_older_than_the_days_given(cli):
    old = [cli.put("completed", days=10) for _ in range(3)]
    recent = cli.put("completed", days=1)
    kept = [cli.put(status, days=30) for status in ("pending", "processing", "failed")]

    answer = cli("jobs", "purge", "--older-than", "7")

    assert answer.exit_code == 0, answer.output
    assert answer.output.splitlines()[0].startswith("deleting completed jobs that completed before")
    assert answer.output.splitlines()[-1] == "deleted 3 completed job(s)"
    assert [cli.status(job) for job in old] == [None, None, None]
    assert cli.status(recent) == "completed"
    assert [cli.status(job) for job in kept] == ["pending", "processing", "failed"]
    assert cli("jobs", "purge", "--older-than", "7").output.splitlines()[-1] == (
        "deleted 0 completed job(s)"
    )

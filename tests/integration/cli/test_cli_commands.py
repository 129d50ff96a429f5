"""The `mierloos` commands: help, exit codes, configuration errors, accounts and demo data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner, Result

from mierloos_entrypoints.checks import run_checks
from mierloos_entrypoints.cli import main
from mierloos_entrypoints.config import ConfigError
from mierloos_entrypoints.container import build_container
from tests.integration.cli.conftest import SECRET_KEY
from tests.integration.cli.processes import ROOT, command_env
from tests.integration.web.web_support import settings_for
from tests.postgres_server import fresh_database

COMMANDS = [
    [],
    ["migrate"],
    ["demo-data"],
    ["serve"],
    ["worker"],
    ["create-staff"],
    ["check"],
    ["jobs"],
    ["jobs", "list"],
    ["jobs", "retry"],
    ["jobs", "purge"],
]
SECRET = "hunter2-geheim-wachtwoord"


def run(var_dir: Path, *args: str, stdin: str | None = None, **env: str) -> Result:
    return CliRunner().invoke(
        main,
        list(args),
        input=stdin,
        prog_name="mierloos",
        env={"MIERLOOS_VAR_DIR": str(var_dir), "DATABASE_URL": None, "SECRET_KEY": None, **env},
        catch_exceptions=False,
    )


def run_process(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mierloos_entrypoints.cli", *args],
        cwd=ROOT,
        env=command_env(MIERLOOS_VAR_DIR=str(var_dir), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "mierloos")
def test_every_command_explains_itself_with_help(var_dir, command):
    answer = run(var_dir, *command, "--help")

    assert answer.exit_code == 0
    assert answer.output.startswith("Usage: mierloos")
    assert not var_dir.exists(), "help touches nothing"


def test_an_unknown_command_is_a_usage_error(var_dir):
    assert run(var_dir, "dance").exit_code == 2


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"DATABASE_URL": "nonsense"}, "- DATABASE_URL must be a postgresql:// or sqlite:/// URL"),
        (
            {
                "DATABASE_URL": f"postgresql://kassa:{SECRET}@db:notaport/x",
                "SECRET_KEY": SECRET_KEY,
            },
            "- DATABASE_URL cannot be parsed (is its port a number?)",
        ),
        (
            {"DATABASE_URL": "postgresql://db/x"},
            "- SECRET_KEY is required outside the embedded setup (32+ characters)",
        ),
        ({"SECRET_KEY": SECRET}, "- SECRET_KEY must be at least 32 characters long"),
        (
            {"SMTP_HOST": "mail", "SMTP_PORT": "smtp"},
            "- SMTP_PORT must be a whole number, got 'smtp'",
        ),
        (
            {"R2_BUCKET_NAME": "kaarten", "R2_SECRET_ACCESS_KEY": SECRET},
            "- R2_ACCESS_KEY_ID is required for object storage",
        ),
        ({"METRICS_TOKEN": "kort"}, "- METRICS_TOKEN must be at least 16 characters long"),
        (
            {"DATABASE_URL": "postgresql://db/x", "SECRET_KEY": SECRET_KEY},
            "- MOLLIE_API_KEY is required outside the embedded setup"
            " (MIERLOOS_FAKE_PAYMENTS=1 for a demo without payments)",
        ),
    ],
)
def test_a_configuration_problem_is_one_line_exit_2_and_never_shows_a_secret(var_dir, env, line):
    answer = run(var_dir, "check", **env)

    assert answer.exit_code == 2
    assert answer.stdout == ""
    assert answer.stderr.splitlines()[0] == "configuration problems:"
    assert line in answer.stderr.splitlines()
    assert SECRET not in answer.stderr


def test_every_problem_is_reported_at_once(var_dir):
    answer = run(var_dir, "migrate", DATABASE_URL="nonsense", WORKER_MAX_ATTEMPTS="zero")

    assert answer.exit_code == 2
    problems = answer.stderr.splitlines()[1:]
    # DATABASE_URL, SECRET_KEY and MOLLIE_API_KEY (both required outside SQLite), WORKER_...
    assert len(problems) == 4
    assert all(problem.startswith("- ") for problem in problems)


def test_the_installed_command_reports_a_bad_database_url_without_a_traceback(var_dir):
    answer = run_process(var_dir, "check", DATABASE_URL="nonsense")

    assert answer.returncode == 2
    assert "DATABASE_URL must be a postgresql:// or sqlite:/// URL" in answer.stderr
    assert "Traceback" not in answer.stderr


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("change-me-to-a-long-random-string-of-48-chars", "is a placeholder"),
        ("x" * 48, "is too predictable"),
        ("0123456789" * 4, "is too predictable"),
    ],
)
def test_a_placeholder_or_predictable_secret_key_is_refused_at_start_up(var_dir, key, why):
    answer = run_process(var_dir, "check", SECRET_KEY=key)

    assert answer.returncode == 2
    lines = [line for line in answer.stderr.splitlines() if "SECRET_KEY" in line]
    assert len(lines) == 1
    assert why in lines[0]
    assert key not in answer.stderr


def test_an_unreachable_database_is_one_line_and_exit_1_without_the_password(var_dir):
    url = f"postgresql://kassa:{SECRET}@127.0.0.1:1/mierloos"

    answer = run_process(
        var_dir, "migrate", DATABASE_URL=url, SECRET_KEY=SECRET_KEY, MIERLOOS_FAKE_PAYMENTS="1"
    )

    assert answer.returncode == 1
    errors = [line for line in answer.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: migrating the database failed: OperationalError")
    assert "Traceback" not in answer.stderr
    assert SECRET not in answer.stderr + answer.stdout


def test_the_worker_reports_a_wrong_worker_variable_as_a_configuration_error(var_dir):
    answer = run_process(var_dir, "worker", "--port", "0", WORKER_LEASE_SECONDS="long")

    assert answer.returncode == 2
    assert "- WORKER_LEASE_SECONDS must be a number, got 'long'" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_a_second_worker_on_a_taken_health_port_is_one_line_and_exit_1(var_dir):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        answer = run_process(var_dir, "worker", "--port", str(port), HEALTH_HOST="127.0.0.1")

    assert answer.returncode == 1
    assert answer.stderr.strip().splitlines() == [
        f"error: the health port 127.0.0.1:{port} is not free (Address already in use);"
        " choose another with --port or PORT"
    ]


def test_check_reports_every_embedded_dependency(var_dir):
    assert run(var_dir, "migrate").exit_code == 0

    answer = run(var_dir, "check")

    assert answer.exit_code == 0, answer.output
    names = [line.split()[1].rstrip(":") for line in answer.output.splitlines()]
    assert names == ["database", "storage", "mail", "payments"]
    assert all(line.startswith("ok") for line in answer.output.splitlines())


def test_check_fails_a_database_that_needs_migrating(var_dir):
    from mierloos_adapters.migrations import head_revision, upgrade
    from mierloos_adapters.sqlalchemy import make_engine

    var_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{var_dir / 'mierloos.db'}")
    upgrade(engine, "0001")
    engine.dispose()

    answer = run(var_dir, "check")

    assert answer.exit_code == 1
    first = answer.output.splitlines()[0]
    assert first.startswith("FAIL database:")
    assert f"at revision 0001, this release needs {head_revision()}" in first
    assert "mierloos migrate" in first
    assert run(var_dir, "migrate").exit_code == 0
    assert run(var_dir, "check").exit_code == 0


def test_check_exits_1_when_a_dependency_is_down(var_dir, postgres_admin_url):
    down = "postgresql://postgres@127.0.0.1:1/postgres"

    answer = run(
        var_dir, "check", DATABASE_URL=down, SECRET_KEY=SECRET_KEY, MIERLOOS_FAKE_PAYMENTS="1"
    )

    assert answer.exit_code == 1
    assert answer.output.splitlines()[0].startswith("FAIL database:")


def test_serve_on_postgres_without_a_mollie_key_stops_at_start_up_in_one_line(var_dir):
    answer = run_process(var_dir, "serve", DATABASE_URL="postgresql://db/x", SECRET_KEY=SECRET_KEY)

    assert answer.returncode == 2
    assert "- MOLLIE_API_KEY is required outside the embedded setup" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_check_on_postgres_with_fake_payments_set_warns_but_passes(var_dir, postgres_cli_url):
    env = {
        "DATABASE_URL": postgres_cli_url,
        "SECRET_KEY": SECRET_KEY,
        "MIERLOOS_LOCAL_STORAGE": "1",
        "MIERLOOS_FILE_MAILER": "1",
    }
    assert run(var_dir, "migrate", MIERLOOS_FAKE_PAYMENTS="1", **env).exit_code == 0

    answer = run(var_dir, "check", MIERLOOS_FAKE_PAYMENTS="1", **env)

    assert answer.exit_code == 0, answer.output
    payments = answer.output.splitlines()[-1]
    assert payments.startswith("ok   payments: warning: fake provider")
    assert "MIERLOOS_FAKE_PAYMENTS=1" in payments


def test_check_fails_the_fake_provider_outside_the_embedded_setup(var_dir, postgres_cli_url):
    settings = attrs.evolve(
        settings_for(var_dir),
        database_url=postgres_cli_url,
        embedded_worker=False,
    )

    checks = {name: (ok, detail) for name, ok, detail in run_checks(settings)}

    assert checks["payments"] == (
        False,
        "fake provider outside the embedded setup: set MOLLIE_API_KEY",
    )
    with pytest.raises(ConfigError, match="MIERLOOS_FAKE_PAYMENTS"):
        build_container(settings).payment_gateway()


def test_demo_data_loads_once(var_dir):
    first = run(var_dir, "demo-data")
    second = run(var_dir, "demo-data")

    assert first.exit_code == 0
    assert first.output.splitlines()[-1] == "demo data loaded"
    assert second.output.splitlines()[-1] == "the catalogue has shows already; nothing added"


def test_create_staff_reads_the_password_from_stdin(var_dir):
    answer = run(
        var_dir,
        "create-staff",
        "--email",
        "Kassa@Example.org",
        "--name",
        "Kassa",
        "--password-stdin",
        stdin="een-lang-en-sterk-wachtwoord\n",
    )

    assert answer.exit_code == 0, answer.output
    assert answer.output.splitlines()[-1] == "staff account ready: kassa@example.org (admin)"


def create_staff(var_dir: Path, email: str, password: str, **env: str) -> Result:
    return run(
        var_dir,
        "create-staff",
        "--email",
        email,
        "--name",
        "Kassa",
        "--password-stdin",
        stdin=password + "\n",
        **env,
    )


def test_create_staff_with_a_weak_password_exits_2_with_the_reason(var_dir):
    answer = create_staff(var_dir, "kassa@example.org", "kassa")

    assert answer.exit_code == 2
    assert answer.stderr.startswith("error: ")
    assert "wachtwoord" in answer.stderr.lower()


def test_create_staff_with_an_invalid_address_is_a_usage_error(var_dir):
    answer = create_staff(var_dir, "geen-adres", "een-lang-en-sterk-wachtwoord")

    assert answer.exit_code == 2
    assert answer.stderr.startswith("error: ")


def test_every_worker_setting_is_checked_at_start_up_all_problems_at_once(var_dir):
    answer = run(
        var_dir,
        "worker",
        PORT="http",
        WORKER_LEASE_SECONDS="0.1",
        WORKER_SHUTDOWN_TIMEOUT="nan",
        ORPHANED_ORDER_CLEANUP_PERIOD="-1",
        REFUND_FOLLOW_UP_PERIOD="inf",
        JOBS_RETENTION_DAYS="-30",
        MIERLOOS_JOB_HANDLERS="niet een verwijzing",
    )

    assert answer.exit_code == 2
    assert answer.stdout == ""
    assert answer.stderr.splitlines() == [
        "configuration problems:",
        "- WORKER_LEASE_SECONDS must be at least 0.5, got '0.1'",
        "- WORKER_SHUTDOWN_TIMEOUT must be at least 1, got 'nan'",
        "- ORPHANED_ORDER_CLEANUP_PERIOD must be at least 0, got '-1'",
        "- REFUND_FOLLOW_UP_PERIOD must be at least 0, got 'inf'",
        "- JOBS_RETENTION_DAYS must be at least 0, got '-30'",
        "- PORT must be a whole number, got 'http'",
        "- MIERLOOS_JOB_HANDLERS must be module.path:function",
    ]


def test_outside_the_embedded_setup_commands_refuse_an_old_schema_and_never_migrate(
    var_dir, postgres_admin_url
):
    from mierloos_adapters.migrations import current_revision, upgrade
    from mierloos_adapters.sqlalchemy import make_engine

    with fresh_database(postgres_admin_url) as url:
        env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "MIERLOOS_FAKE_PAYMENTS": "1"}
        engine = make_engine(url)
        try:
            fresh = run(var_dir, "check", **env)
            assert fresh.exit_code == 1
            assert fresh.output.splitlines()[0] == (
                "FAIL database: reachable, but the database has no schema yet:"
                " run `mierloos migrate`"
            )
            upgrade(engine, "0001")

            staff = create_staff(
                var_dir, "kassa@example.org", "een-lang-en-sterk-wachtwoord", **env
            )
            demo = run(var_dir, "demo-data", **env)

            for answer in (staff, demo):
                assert answer.exit_code == 1
                assert answer.stderr.startswith("error: the database schema is at revision 0001")
                assert answer.stderr.rstrip().endswith("run `mierloos migrate`")
            assert current_revision(engine) == "0001"
            assert run(var_dir, "migrate", **env).exit_code == 0
            assert run(var_dir, "demo-data", **env).exit_code == 0
        finally:
            engine.dispose()

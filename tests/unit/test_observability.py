import json
import logging

import pytest
from prometheus_client import REGISTRY

from mierloos_entrypoints.observability import (
    JsonFormatter,
    ReadableFormatter,
    _ContextFilter,
    log_context,
    timed_job,
)


def emit(formatter, message, **fields):
    logger = logging.getLogger("test.observability")
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Capture()
    handler.setFormatter(formatter)
    handler.addFilter(_ContextFilter())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with log_context(**fields):
            logger.warning(message)
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    return records


def test_json_lines_carry_the_order_and_job_of_the_work_in_hand():
    inside, outside = emit(JsonFormatter(), "betaald", order_id="o-1", job_id="j-9")
    entry = json.loads(inside)
    assert (entry["message"], entry["level"], entry["order_id"], entry["job_id"]) == (
        "betaald",
        "warning",
        "o-1",
        "j-9",
    )
    assert "order_id" not in json.loads(outside)


def test_readable_lines_show_the_context_at_the_end():
    inside, _ = emit(ReadableFormatter(), "verlopen", order_id="o-2")
    assert inside.endswith("verlopen  [order_id=o-2]")


def test_job_timing_counts_outcomes():
    def count(outcome):
        return (
            REGISTRY.get_sample_value("mierloos_jobs_total", {"type": "email", "outcome": outcome})
            or 0
        )

    ok, failed = count("ok"), count("ConnectionError")
    with timed_job("email"):
        pass
    with pytest.raises(ConnectionError), timed_job("email"):
        raise ConnectionError
    assert (count("ok"), count("ConnectionError")) == (ok + 1, failed + 1)


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("sqlalchemy").level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("sqlalchemy").setLevel(saved[2])
    logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("environ", "formatter"),
    [
        ({}, ReadableFormatter),
        ({"DATABASE_URL": "sqlite:///var/x.db"}, ReadableFormatter),
        ({"DATABASE_URL": "postgresql://db/x"}, JsonFormatter),
        ({"DATABASE_URL": "postgresql://db/x", "LOG_FORMAT": "text"}, ReadableFormatter),
        ({"LOG_FORMAT": "json"}, JsonFormatter),
    ],
)
def test_log_format_is_json_outside_the_embedded_setup_unless_chosen(
    restore_logging, environ, formatter
):
    from mierloos_entrypoints.observability import configure_logging

    configure_logging(environ=environ)
    (handler,) = logging.getLogger().handlers
    assert type(handler.formatter) is formatter


def test_log_level_sets_the_site_the_worker_and_sqlalchemy(restore_logging):
    from mierloos_entrypoints.observability import configure_logging

    configure_logging(environ={"LOG_LEVEL": "warning"})
    assert logging.getLogger().level == logging.WARNING
    assert not logging.getLogger("mierloos.worker").isEnabledFor(logging.INFO)
    assert not logging.getLogger("sqlalchemy.pool").isEnabledFor(logging.INFO)

    configure_logging(environ={}, level="DEBUG")
    assert logging.getLogger("mierloos_adapters.jobqueue").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)


def test_bad_log_settings_are_one_problem_each():
    from mierloos_entrypoints.log_settings import logging_problems

    assert logging_problems({"LOG_LEVEL": "loud", "LOG_FORMAT": "xml"}) == [
        "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'",
        "LOG_FORMAT must be json or text, got 'xml'",
    ]
    assert logging_problems({"LOG_LEVEL": "debug", "LOG_FORMAT": "TEXT"}) == []


def test_dramatiqs_own_records_about_a_job_carry_its_id_until_it_is_settled():
    from types import SimpleNamespace

    from mierloos_entrypoints.observability import JobLogContext

    middleware = JobLogContext()
    message = SimpleNamespace(message_id="j-42", actor_name="email")
    middleware.before_process_message(None, message)
    # As Dramatiq's worker logs a failure, outside the actor's own context:
    failed, _ = emit(JsonFormatter(), "Failed to process message email(j-42)")
    middleware.after_nack(None, message)
    after, _ = emit(JsonFormatter(), "next")

    assert json.loads(failed)["job_id"] == "j-42"
    assert json.loads(failed)["job_type"] == "email"
    assert "job_id" not in json.loads(after)


def test_the_access_log_carries_the_order_of_the_request():
    import asyncio
    import concurrent.futures

    from mierloos_entrypoints.observability import RequestLogContext

    access = logging.getLogger("test.access")
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Capture()
    handler.addFilter(_ContextFilter())
    access.addHandler(handler)
    access.propagate = False
    access.setLevel(logging.INFO)

    async def app(scope, receive, send):
        with log_context(order_id="o-7"):  # what a handler learns, e.g. from a secret
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def server_send(message):  # uvicorn writes its access log here
        access.info("GET /bestelling/... 200")

    async def receive():
        return {"type": "http.request"}

    try:
        # In a thread of its own: a browser test's Playwright may keep a loop running here.
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            for scope in ({"type": "http"}, {"type": "http", "path_params": {"job_id": "j-1"}}):
                call = RequestLogContext(app)(scope, receive, server_send)
                thread.submit(asyncio.run, call).result()
    finally:
        access.removeHandler(handler)
    assert records[0].order_id == "o-7"
    assert records[1].job_id == "j-1"

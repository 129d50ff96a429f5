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

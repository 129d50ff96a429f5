"""Prometheus text for `/metrics` on the web site and on the worker's health port.

It holds this process's counters and histograms (see `observability`), or, under a worker
supervisor, those of every worker process (`multiprocess_dir`), followed by the jobs table's
state as gauges, read from the JobLedger's summary at scrape time so every process reports the
same numbers. A ledger that cannot be read reports `mierloos_jobs_ledger_up 0` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from mierloos_core.model.jobs import JobStatus
from mierloos_core.ports import JobLedger

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

log = logging.getLogger(__name__)


class LedgerCollector(Collector):
    """Gauges of the jobs table: counts by type and status, oldest pending age, recent failures."""

    def __init__(self, ledger: JobLedger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "mierloos_jobs_ledger_up", "1 when the jobs table could be read for these gauges"
        )
        try:
            summary = self.ledger.summary()
        except Exception as error:
            log.warning("metrics: the jobs table cannot be read: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        stored = GaugeMetricFamily(
            "mierloos_jobs_stored",
            "Jobs in the jobs table now, by type and status",
            labels=["type", "status"],
        )
        for job_type, counts in sorted(summary.by_type.items()):
            for status in JobStatus:
                stored.add_metric([job_type, status.value], counts.get(status.value, 0))
        yield stored
        age = summary.oldest_pending_age
        yield GaugeMetricFamily(
            "mierloos_jobs_oldest_pending_seconds",
            "Age of the oldest pending job (0 when none is pending)",
            value=age.total_seconds() if age is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "mierloos_jobs_failed_last_hour",
            "Jobs that ended failed within the last hour",
            value=summary.failed_last_hour,
        )


def exposition(ledger: JobLedger | None = None, *, multiprocess_dir: str | None = None) -> bytes:
    """The Prometheus text of this process (or of the worker processes sharing the directory)."""
    if multiprocess_dir is None:
        text = generate_latest(REGISTRY)
    else:
        shared = CollectorRegistry()
        MultiProcessCollector(shared, path=multiprocess_dir)
        text = generate_latest(shared)
    if ledger is not None:
        jobs = CollectorRegistry(auto_describe=False)
        jobs.register(LedgerCollector(ledger))
        text += generate_latest(jobs)
    return text

"""This process's worker, set up once: its settings, its broker and the actors on it.

`setup` makes the broker Dramatiq's global broker, so Dramatiq's own command runs it:
``dramatiq mierloos_entrypoints.worker:setup``. `run_worker` and its worker processes set it
up the same way; the embedded worker of `mierloos serve` builds its own from the site's
settings instead.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
import dramatiq

from mierloos_adapters.jobqueue.broker import JobsBroker
from mierloos_core.model.jobs import JobType
from mierloos_entrypoints.config import ConfigError, WorkerConfig, load_worker_config
from mierloos_entrypoints.worker.actors import declare_actors
from mierloos_entrypoints.worker.broker import jobs_broker


@attrs.frozen
class ProcessWorker:
    config: WorkerConfig
    broker: JobsBroker
    actors: dict[JobType, dramatiq.Actor[[dict[str, Any]], None]]


@functools.cache
def setup() -> ProcessWorker:
    """This process's worker from the worker's settings (`load_worker_config`), built once."""
    try:
        config = load_worker_config()
    except ConfigError as error:
        raise SystemExit(str(error)) from None
    broker = jobs_broker(config.database_url, config.worker)
    dramatiq.set_broker(broker)
    return ProcessWorker(config, broker, declare_actors(broker))

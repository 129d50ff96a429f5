"""The background worker: Dramatiq over the `jobs` table, one thin actor per job type.

Run it with ``mierloos worker`` (which calls `run_worker`), ``python -m
mierloos_entrypoints.worker`` or Dramatiq's own command, ``dramatiq
mierloos_entrypoints.worker:setup``: `setup` builds this process's broker and actors from the
worker's settings (`mierloos_entrypoints.config.load_worker_config`; the variables are in the
README's table). Each actor hands its job to the core's JobRegistry, which the composition root
fills (see `build_registry`).

- `process`: this process's settings, broker and actors, set up once;
- `broker`: a JobsBroker from the worker's settings, with its periodic jobs;
- `actors`: the actor of each job type and its time limit;
- `handlers`: the JobRegistry the actors run (MIERLOOS_JOB_HANDLERS);
- `health`: `/health` and `/metrics` on the worker's port;
- `supervisor`: more worker processes, started again when one dies;
- `running`: `run_worker` and `main`, the entry points.

/metrics shows the jobs run and their durations (by type and outcome, summed over the worker
processes) and the jobs table's counts by type and status.
"""

from __future__ import annotations

from mierloos_entrypoints.worker.handlers import build_registry, registry, use_registry
from mierloos_entrypoints.worker.process import setup
from mierloos_entrypoints.worker.running import PortInUse, main, run_worker

__all__ = [
    "PortInUse",
    "build_registry",
    "main",
    "registry",
    "run_worker",
    "setup",
    "use_registry",
]

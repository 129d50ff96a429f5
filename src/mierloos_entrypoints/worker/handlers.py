"""The JobRegistry this process's actors run: MIERLOOS_JOB_HANDLERS, built once."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from mierloos_core.model.jobs import JobType
from mierloos_core.services.jobs import JobRegistry

log = logging.getLogger("mierloos.worker")


def build_registry() -> JobRegistry:
    """The default MIERLOOS_JOB_HANDLERS hook: the composition root's handlers.

    The container registers the core services (`register_job_handlers(registry)` in
    `mierloos_entrypoints.container`). A job type without a handler fails at once as unknown,
    and the worker logs at start which types have none.
    """
    from mierloos_entrypoints.container import register_job_handlers

    registry = JobRegistry()
    register_job_handlers(registry)
    return registry


_registry: JobRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> JobRegistry:
    """This process's JobRegistry, built once from MIERLOOS_JOB_HANDLERS."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                from mierloos_entrypoints.worker.process import setup

                _registry = load_registry(setup().config.worker.job_handlers)
    return _registry


def use_registry(handlers: JobRegistry) -> None:
    """Run this process's jobs with these handlers (the embedded worker of `mierloos serve`)."""
    global _registry
    with _registry_lock:
        _registry = handlers


def load_registry(reference: str) -> JobRegistry:
    """The JobRegistry the "module:function" `reference` returns."""
    module_name, _, attribute = reference.partition(":")
    factory: Callable[[], JobRegistry] = getattr(
        importlib.import_module(module_name), attribute or "build_registry"
    )
    built = factory()
    if not isinstance(built, JobRegistry):
        raise TypeError(f"{reference} returned {type(built).__name__}, not a JobRegistry")
    missing = sorted(set(JobType) - built.job_types)
    if missing:
        log.warning("no handler for job types %s: such jobs fail as unknown", ", ".join(missing))
    return built


def give_up(job_type: str, data: Any, reason: str) -> None:
    """The broker's hook when a job has no attempts left: the handler's own give-up."""
    registry().gave_up(job_type, data, reason)

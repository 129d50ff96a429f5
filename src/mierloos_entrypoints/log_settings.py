"""LOG_LEVEL and LOG_FORMAT: their values, checked with the other settings at start-up."""

from __future__ import annotations

from collections.abc import Mapping

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")


def logging_problems(environ: Mapping[str, str]) -> list[str]:
    """LOG_LEVEL and LOG_FORMAT problems, one line each (for the start-up report)."""
    problems = []
    level = environ.get("LOG_LEVEL", "").strip()
    if level and level.upper() not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    form = environ.get("LOG_FORMAT", "").strip()
    if form and form.lower() not in LOG_FORMATS:
        problems.append(f"LOG_FORMAT must be json or text, got {form!r}")
    return problems

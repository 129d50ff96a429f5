"""The job queue under its former import path, for the broker until it imports `jobs`."""

from mierloos_adapters.sqlalchemy.jobs import SqlJobQueue

__all__ = ["SqlJobQueue"]

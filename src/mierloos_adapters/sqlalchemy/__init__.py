"""Persistence on SQLAlchemy Core: Postgres (psycopg 3) in production, SQLite embedded."""

from mierloos_adapters.sqlalchemy.engine import make_engine, normalize_database_url
from mierloos_adapters.sqlalchemy.unit_of_work import SqlUnitOfWork

__all__ = ["SqlUnitOfWork", "make_engine", "normalize_database_url"]

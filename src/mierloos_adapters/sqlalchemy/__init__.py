"""Persistence on SQLAlchemy Core: Postgres (psycopg 3) in production, SQLite embedded.

- `engine`: engines for a database URL; `unit_of_work.SqlUnitOfWork`: one transaction, every
  repository on its connection, contention and lost races answered as `Busy`.
- `tables`: the schema the migrations build; `types`: column types alike on both databases.
- `rows`: the row mapping all repositories share (attrs object to row and back).
- One module per aggregate: `catalog` (shows, performances, seat inventory),
  `price_categories` (a performance's categories, a show's default set, seats per category),
  `coupons`, `orders`, `payments` (payments and refunds), `accounts` (users, reset tokens),
  `login_sessions`, `images`, `door` (admissions, the scan log, device tokens), `waitlists`,
  `seating` (halls, plan versions, seat states per performance), `jobs` (the SQL job queue).
- `job_wakeups`: what a transaction that makes a job runnable records for idle consumers.
- `throttles`: rate-limit counters shared by every process; `outages`: recognising a lost
  database connection.
- Reports: `reports.SqlReports` over `report_performance` (one performance), `report_period`
  (a period, one statement), `report_lines` (export lines, streamed) and `report_formats`
  (exports formatted by Postgres), all built from the blocks of `report_queries`.
"""

from mierloos_adapters.sqlalchemy.engine import make_engine, normalize_database_url
from mierloos_adapters.sqlalchemy.unit_of_work import SqlUnitOfWork

__all__ = ["SqlUnitOfWork", "make_engine", "normalize_database_url"]

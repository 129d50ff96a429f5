"""Adapters: one module or package per technology, each implementing ports of mierloos_core.

- `sqlalchemy/` (persistence and reports), `migrations/` (Alembic), `jobqueue/` (the Dramatiq
  broker over the jobs table, and the ledger staff read), `memory/` (fakes of every port);
- payments: `mollie`, `fake_payments` (the local provider of the embedded default);
- files: `s3` (R2, MinIO, S3) and `local_storage`, sharing `object_keys`; `images` (Pillow);
- mail: `smtp` and `file_mailer`, with `email_templates`; tickets: `pdf` (reportlab, with
  `fonts/`), `qr_codes` (reading codes from camera frames at the door);
- `exports` and `spreadsheet` (CSV and .xlsx as the lines stream in), `i18n` (the two
  languages, with `locale/`), `links` (the site's public URLs), `passwords` (argon2id),
  `redis_throttles`, `clock` (production's clock).
"""

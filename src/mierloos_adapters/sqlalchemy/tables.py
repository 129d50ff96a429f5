"""The schema, as SQLAlchemy Core tables. Alembic migrations create it; these map it.

Statuses are short strings guarded by CHECK constraints, so adding a status is a small
migration on both databases. Money columns hold integer cents.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.schema import SchemaItem

from mierloos_adapters.sqlalchemy.types import JsonDocument, UtcDateTime
from mierloos_core.model.accounts import Role
from mierloos_core.model.admissions import ScanResult
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.coupons import DiscountKind
from mierloos_core.model.files import ImageStatus
from mierloos_core.model.jobs import JobStatus
from mierloos_core.model.orders import OrderStatus, PaymentMethod, SalesChannel, TicketStatus
from mierloos_core.model.payments import PaymentStatus, RefundStatus
from mierloos_core.model.price_categories import Visibility
from mierloos_core.model.seating import SeatingMode, SeatState
from mierloos_core.model.waitlist import EntryStatus

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def entity_table(name: str, *columns_and_constraints: SchemaItem) -> Table:
    """A table whose rows are each one thing, known by a UUID `id` (all tables but two)."""
    return Table(name, metadata, Column("id", Uuid, primary_key=True), *columns_and_constraints)


def one_of(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


users = entity_table(
    "users",
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime),
    one_of("role", Role),
)

shows = entity_table(
    "shows",
    Column("title", String(200), nullable=False),
    Column("slug", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("genre", String(40), nullable=False, default=""),
    Column("duration_minutes", Integer),
    Column("age_advice", String(20), nullable=False, default=""),
    Column("image_id", Uuid),
    Column("created_at", UtcDateTime),
    # The VAT percentage its ticket prices include (migration 0015).
    Column("vat_rate", Numeric(5, 2), nullable=False, default=Decimal("9.00")),
    CheckConstraint("vat_rate >= 0 AND vat_rate <= 100", name="vat_rate_valid"),
)

performances = entity_table(
    "performances",
    Column("show_id", Uuid, ForeignKey("shows.id"), nullable=False, index=True),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("available_seats", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("hall", String(100)),
    # Reserved seating (migration 0016): the plan version it went on sale with; NULL with free.
    Column("seating_mode", String(10), nullable=False, server_default="free"),
    Column("seat_plan_id", Uuid, ForeignKey("seat_plans.id")),
    one_of("status", PerformanceStatus),
    one_of("seating_mode", SeatingMode),
    CheckConstraint(
        "(seating_mode = 'reserved') = (seat_plan_id IS NOT NULL)", name="reserved_has_plan"
    ),
    CheckConstraint("price_cents >= 0", name="price_not_negative"),
    CheckConstraint(
        "available_seats >= 0 AND available_seats <= capacity", name="seats_within_capacity"
    ),
    Index("ix_performances_status_starts_at", "status", "starts_at"),
    Index("ix_performances_starts_at", "starts_at"),
)

# A performance's price categories; `seat_limit` and `available` are NULL for one without a limit of
# its own (migration 0009). `performances.price_cents` is the price of its first category.
price_categories = entity_table(
    "price_categories",
    Column("performance_id", Uuid, ForeignKey("performances.id"), nullable=False, index=True),
    Column("name_nl", String(100), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("seat_limit", Integer),
    Column("available", Integer),
    Column("visibility", String(20), nullable=False),
    Column("position", Integer, nullable=False),
    one_of("visibility", Visibility),
    CheckConstraint("price_cents >= 0", name="price_not_negative"),
    CheckConstraint(
        "(available IS NULL AND seat_limit IS NULL)"
        " OR (available >= 0 AND available <= seat_limit)",
        name="seats_within_limit",
    ),
)

# A show's default set of categories, copied into each new performance.
show_price_categories = entity_table(
    "show_price_categories",
    Column("show_id", Uuid, ForeignKey("shows.id", ondelete="CASCADE"), nullable=False),
    Column("name_nl", String(100), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("seat_limit", Integer),
    Column("visibility", String(20), nullable=False),
    Column("position", Integer, nullable=False),
    one_of("visibility", Visibility),
    CheckConstraint("price_cents >= 0", name="price_not_negative"),
    CheckConstraint("seat_limit IS NULL OR seat_limit >= 0", name="limit_not_negative"),
    Index("ix_show_price_categories_show_id", "show_id"),
)

coupons = entity_table(
    "coupons",
    Column("code", String(50), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("value", Numeric(12, 2), nullable=False),
    Column("valid_from", UtcDateTime),
    Column("valid_until", UtcDateTime),
    Column("max_usages", Integer),
    Column("usage_count", Integer, nullable=False, default=0),
    Column("minimum_order_cents", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
    Column("description", Text, nullable=False, default=""),
    # The Dutch names of the price categories it discounts; NULL: all of them (migration 0009).
    Column("category_names", JsonDocument),
    one_of("kind", DiscountKind),
    CheckConstraint(
        "usage_count >= 0 AND (max_usages IS NULL OR usage_count <= max_usages)",
        name="usage_within_limit",
    ),
)

orders = entity_table(
    "orders",
    Column("number", String(20), nullable=False, unique=True),
    Column("secret", String(64), nullable=False, unique=True),
    Column("email", String(254), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("subtotal_cents", Integer, nullable=False),
    Column("discount_cents", Integer, nullable=False),
    Column("coupon_code", String(50)),
    Column("user_id", Uuid, ForeignKey("users.id")),
    Column("newsletter", Boolean, nullable=False, default=False),
    Column("client_address", String(64)),
    Column("language", String(5), nullable=False, default="nl"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("needs_attention", Text),
    Column("tickets_pdf_key", String(300)),
    Column("tickets_pdf_pages", Integer),
    Column("tickets_pdf_size", Integer),
    Column("tickets_pdf_created_at", UtcDateTime),
    Column("sales_channel", String(20), nullable=False, default="web"),
    Column("payment_method", String(20), nullable=False, default="mollie"),
    Column("sold_by", Uuid, ForeignKey("users.id")),
    Column("free_reason", String(200)),
    Column("pay_before", UtcDateTime),
    Column("phone", String(40)),
    Column("request_key", String(64), unique=True),
    one_of("status", OrderStatus),
    one_of("sales_channel", SalesChannel),
    one_of("payment_method", PaymentMethod),
    CheckConstraint("discount_cents >= 0 AND discount_cents <= subtotal_cents", name="discount"),
    Index("ix_orders_status_expires_at", "status", "expires_at"),
    Index("ix_orders_user_id", "user_id"),
    Index("ix_orders_created_at", "created_at"),
    Index("ix_orders_client_address", "client_address"),
    Index("ix_orders_paid_at", "paid_at"),
    Index("ix_orders_sales_channel_status", "sales_channel", "status"),
)

tickets = entity_table(
    "tickets",
    Column("order_id", Uuid, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("performance_id", Uuid, ForeignKey("performances.id"), nullable=False),
    Column("category_id", Uuid, ForeignKey("price_categories.id"), nullable=False, index=True),
    Column("category_name", String(100), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("secret", String(64), nullable=False, unique=True),
    # Admission at the door (migration 0012): set once, by one conditional update.
    Column("admitted_at", UtcDateTime),
    Column("admitted_door", String(60)),
    Column("admitted_by", String(254)),
    one_of("status", TicketStatus),
    UniqueConstraint("order_id", "position", name="uq_tickets_order_position"),
    Index("ix_tickets_performance_id_status", "performance_id", "status"),
)

coupon_usages = entity_table(
    "coupon_usages",
    Column("coupon_id", Uuid, ForeignKey("coupons.id"), nullable=False, index=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False, unique=True),
    Column("discount_cents", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
)

payments = entity_table(
    "payments",
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False, index=True),
    Column("provider", String(20), nullable=False),
    Column("provider_payment_id", String(100), unique=True),
    Column("status", String(20), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("checkout_url", Text),
    Column("expires_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    one_of("status", PaymentStatus),
)

payment_events = entity_table(
    "payment_events",
    Column("payment_id", Uuid, ForeignKey("payments.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("source", String(50), nullable=False, default=""),
)

refunds = entity_table(
    "refunds",
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False, index=True),
    Column("payment_id", Uuid, ForeignKey("payments.id"), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("whole", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("requested_by", String(254), nullable=False),
    Column("request_key", String(64)),
    # The ids of the tickets it refunds, as text; NULL: an amount of the order (migration 0009).
    Column("ticket_ids", JsonDocument),
    Column("provider_refund_id", String(100), unique=True),
    Column("error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    one_of("status", RefundStatus),
    CheckConstraint("amount_cents > 0", name="amount_positive"),
    UniqueConstraint("order_id", "request_key", name="uq_refunds_order_id_request_key"),
    Index("ix_refunds_status", "status"),
    Index("ix_refunds_created_at", "created_at"),
)

images = entity_table(
    "images",
    Column("show_id", Uuid, ForeignKey("shows.id"), nullable=False, index=True),
    Column("original_key", String(500), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("variants", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    one_of("status", ImageStatus),
)

password_reset_tokens = entity_table(
    "password_reset_tokens",
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Index("ix_password_reset_tokens_user_id_created_at", "user_id", "created_at"),
)

# Every scan at the door, whatever its result (migration 0012).
door_scans = entity_table(
    "door_scans",
    Column("performance_id", Uuid, ForeignKey("performances.id"), nullable=False),
    Column("ticket_id", Uuid, ForeignKey("tickets.id", ondelete="SET NULL"), index=True),
    Column("result", String(20), nullable=False),
    Column("door", String(60), nullable=False),
    Column("staff", String(254), nullable=False),
    Column("scanned_at", UtcDateTime, nullable=False),
    Column("offline", Boolean, nullable=False, default=False),
    Column("seat_id", Uuid, ForeignKey("seats.id")),  # migration 0017
    one_of("result", ScanResult),
    Index("ix_door_scans_performance_id_scanned_at", "performance_id", "scanned_at"),
    Index("ix_door_scans_performance_id_seat_id", "performance_id", "seat_id"),
)

# The check-in API's keys, one per scanner app, as SHA-256 hashes (migration 0012).
device_tokens = entity_table(
    "device_tokens",
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("performance_id", Uuid, ForeignKey("performances.id"), index=True),
    Column("created_by", String(254), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("staff", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Index("ix_login_sessions_user_id", "user_id"),
    Index("ix_login_sessions_last_seen_at", "last_seen_at"),
)

throttle_counters = Table(
    "throttle_counters",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("window_ends_at", UtcDateTime, nullable=False),
    Column("count", Integer, nullable=False),
    Index("ix_throttle_counters_window_ends_at", "window_ends_at"),
)

# A performance's waiting list (migration 0014): no row means enabled, nothing held. `held` seats
# are out of `performances.available_seats` until offered: capacity = available + held + the
# seats its tickets hold.
waitlists = Table(
    "waitlists",
    metadata,
    Column("performance_id", Uuid, ForeignKey("performances.id"), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("held", Integer, nullable=False),
    CheckConstraint("held >= 0", name="held_not_negative"),
)

waitlist_entries = entity_table(
    "waitlist_entries",
    Column("performance_id", Uuid, ForeignKey("performances.id"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("category_id", Uuid, ForeignKey("price_categories.id")),
    Column("language", String(5), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("offer_order_id", Uuid, ForeignKey("orders.id"), unique=True),
    Column("offered_at", UtcDateTime),
    one_of("status", EntryStatus),
    CheckConstraint("quantity >= 1", name="quantity_positive"),
    UniqueConstraint("performance_id", "email", name="uq_waitlist_entries_performance_email"),
    Index("ix_waitlist_entries_performance_status", "performance_id", "status", "created_at"),
)

jobs = entity_table(
    "jobs",
    Column("type", String(50), nullable=False),
    Column("queue_name", String(50), nullable=False, default="default"),
    Column("status", String(20), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("data", JsonDocument, nullable=False),
    Column("result", JsonDocument),
    Column("error_message", Text),
    Column("execution_count", Integer, nullable=False, default=0),
    Column("max_attempts", Integer),
    Column("next_retry_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UtcDateTime),
    Column("dedupe_key", String(200), unique=True),
    # One entry per failed or lost attempt: {"attempt", "at", "error", "worker"} (migration 0003).
    Column("errors", JsonDocument),
    one_of("status", JobStatus),
    Index("ix_jobs_type_status", "type", "status"),
    Index("ix_jobs_claim", "queue_name", "status", "next_retry_at"),
    Index("ix_jobs_created_at", "created_at"),
    Index("ix_jobs_lease_expires_at", "lease_expires_at"),
    Index("ix_jobs_status_completed_at", "status", "completed_at"),
)

# Reserved seating (migration 0016): halls, their plan versions (never changed once stored), the
# seats of each version, and each reserved performance's seats with their state.
halls = entity_table("halls", Column("name", String(100), nullable=False, unique=True))

seat_plans = entity_table(
    "seat_plans",
    Column("hall_id", Uuid, ForeignKey("halls.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("hall_id", "version", name="uq_seat_plans_hall_version"),
)

seats = entity_table(
    "seats",
    Column("plan_id", Uuid, ForeignKey("seat_plans.id"), nullable=False, index=True),
    Column("section", String(40), nullable=False),
    Column("row_label", String(40), nullable=False),
    Column("row_index", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("column_index", Integer, nullable=False),
    Column("x", Numeric(8, 2), nullable=False),
    Column("y", Numeric(8, 2), nullable=False),
    Column("zone", String(40), nullable=False),
    Column("wheelchair", Boolean, nullable=False),
    Column("companion", Boolean, nullable=False),
    Column("restricted_view", Boolean, nullable=False),
    Column("blocked", Boolean, nullable=False),
    UniqueConstraint("plan_id", "section", "row_label", "number", name="uq_seats_plan_number"),
)

performance_seats = Table(
    "performance_seats",
    metadata,
    Column("performance_id", Uuid, ForeignKey("performances.id"), primary_key=True),
    Column("seat_id", Uuid, ForeignKey("seats.id"), primary_key=True),
    Column("category_id", Uuid, ForeignKey("price_categories.id"), nullable=False),
    Column("state", String(10), nullable=False),
    Column("order_id", Uuid, ForeignKey("orders.id")),
    Column("ticket_id", Uuid, ForeignKey("tickets.id"), unique=True),  # a ticket, one seat
    one_of("state", SeatState),
    CheckConstraint(
        "(state IN ('held', 'sold')) = (order_id IS NOT NULL)", name="taken_by_an_order"
    ),
    Index("ix_performance_seats_order_id", "order_id"),
)

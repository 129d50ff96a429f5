"""The composition root: configuration in, adapters out. Entry points ask it for what they need.

`Container(settings=...)` picks the production adapter wherever its variables are set and the
embedded one elsewhere. The web site takes its `web_services`, the worker the handlers of
`register_job_handlers`, the CLI the services it runs; all of them read their settings from
`settings` (`config.load_settings`). Embedders may override any provider before the app or
the handlers are built, e.g. with the memory fakes:
``container.payment_gateway.override(MemoryPaymentGateway())``.
"""

from __future__ import annotations

import os
import uuid
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import attrs
from dependency_injector import containers, providers

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.email_templates import JinjaEmailTemplates
from mierloos_adapters.file_mailer import FileMailer
from mierloos_adapters.images import PillowImageProcessor
from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.links import SiteLinks
from mierloos_adapters.local_storage import LocalStorage
from mierloos_adapters.passwords import Argon2PasswordHasher
from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_adapters.sqlalchemy.reports import SqlReports
from mierloos_adapters.sqlalchemy.throttles import SqlThrottleStore
from mierloos_core.model.commands import (
    CancelPayment,
    CreatePayment,
    ExpireOrders,
    FollowUpRefunds,
    GenerateTickets,
    OfferWaitlistSeats,
    ProcessImage,
    PurgeJobs,
    PurgeWaitlists,
    RefundOrder,
    SendEmail,
    SyncPayment,
)
from mierloos_core.ports import Clock, Mailer, ObjectStorage, PaymentGateway, ThrottleStore
from mierloos_core.services.accounts import Accounts, ResetTokens
from mierloos_core.services.checkout import CheckoutPolicy
from mierloos_core.services.counter import Counter, CounterPolicy
from mierloos_core.services.door import Door
from mierloos_core.services.door_devices import DeviceTokens
from mierloos_core.services.door_offline import OfflineDoor
from mierloos_core.services.images import ShowImages
from mierloos_core.services.jobs import JobRegistry, jobs_purge_handler
from mierloos_core.services.notifications import EmailSender
from mierloos_core.services.order_views import OrderViews
from mierloos_core.services.ordering import Ordering
from mierloos_core.services.payments import Payments
from mierloos_core.services.refunds import Refunds
from mierloos_core.services.reports import Reporting
from mierloos_core.services.retention import waitlist_purge_handler
from mierloos_core.services.sessions import Sessions
from mierloos_core.services.staff_accounts import StaffAccounts
from mierloos_core.services.staff_catalog import StaffCatalog
from mierloos_core.services.staff_coupons import StaffCoupons
from mierloos_core.services.staff_orders import StaffOrders
from mierloos_core.services.staff_price_categories import StaffPriceCategories
from mierloos_core.services.throttles import LoginThrottle, ThrottleLimiter
from mierloos_core.services.tickets import Tickets
from mierloos_core.services.waitlist import WaitlistPolicy, Waitlists
from mierloos_entrypoints.config import ConfigError, Settings, load_settings
from mierloos_entrypoints.observability import log_context
from mierloos_entrypoints.web.services import WebServices


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    if settings.is_embedded:
        settings.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        database = settings.database_url.removeprefix("sqlite:///")
        if database and database != ":memory:" and "?" not in database:
            # Created empty and private before SQLite opens it (accounts, orders, sessions).
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
            os.chmod(database, 0o600)
    return make_engine(settings.database_url, pool_size=settings.database_pool_size)


def _storage(settings: Settings) -> ObjectStorage:
    if settings.s3 is None:
        return LocalStorage(settings.storage_dir)
    from mierloos_adapters.s3 import S3Storage

    return S3Storage(
        bucket=settings.s3.bucket,
        access_key_id=settings.s3.access_key_id,
        secret_access_key=settings.s3.secret_access_key,
        endpoint_url=settings.s3.endpoint_url,
        region=settings.s3.region,
    )


def _mailer(settings: Settings) -> Mailer:
    if settings.smtp is None:
        return FileMailer(settings.outbox_dir, sender=settings.sender)
    from mierloos_adapters.smtp import SmtpMailer

    return SmtpMailer(
        settings.smtp.host,
        settings.smtp.port,
        settings.smtp.username,
        settings.smtp.password,
        sender=settings.smtp.sender,
        security=settings.smtp.security,
    )


def _payment_gateway(settings: Settings) -> PaymentGateway:
    if settings.mollie_api_key is None:
        if not settings.fake_payments_allowed:
            # Settings built by hand skip load_settings' check; never sell free tickets silently.
            raise ConfigError(
                [
                    "MOLLIE_API_KEY is required outside the embedded setup"
                    " (or MIERLOOS_FAKE_PAYMENTS=1)"
                ]
            )
        from mierloos_adapters.fake_payments import FakePaymentProvider

        return FakePaymentProvider(settings.var_dir / "fake-payments", base_url=settings.base_url)
    from mierloos_adapters.mollie import MolliePaymentGateway

    return MolliePaymentGateway(settings.mollie_api_key, api_endpoint=settings.mollie_api_endpoint)


def _throttle_store(settings: Settings, engine: Any, clock: Clock) -> ThrottleStore:
    if settings.redis_url is None:
        return SqlThrottleStore(engine, clock)
    from mierloos_adapters.redis_throttles import RedisThrottleStore

    return RedisThrottleStore(settings.redis_url)


def _reset_url(links: SiteLinks, tokens: ResetTokens, nonce: str) -> str:
    return links.password_reset(tokens.token(nonce))


def _order_log_context(order_id: uuid.UUID) -> AbstractContextManager[None]:
    return log_context(order_id=order_id)


def _counter_policy(settings: Settings) -> CounterPolicy:
    return CounterPolicy(
        sells_after_start=timedelta(minutes=settings.counter_after_start_minutes),
        phone_hold_until=timedelta(minutes=settings.phone_pay_before_minutes),
    )


def _waitlist_policy(settings: Settings) -> WaitlistPolicy:
    return WaitlistPolicy(offer_hours=settings.waitlist_offer_hours)


def _checkout_policy(settings: Settings) -> CheckoutPolicy:
    return CheckoutPolicy(
        order_ttl=timedelta(minutes=settings.order_ttl_minutes),
        max_unpaid_per_performance=settings.max_unpaid_tickets_per_performance,
    )


def _web_services(container: Container) -> WebServices:
    """Each field of WebServices from the container's provider of the same name (`uow`: the
    provider itself, a new unit of work per call)."""
    resolved = {
        name: provider if name == "uow" else provider()
        for name, provider in (
            (field.name, getattr(container, field.name)) for field in attrs.fields(WebServices)
        )
    }
    return WebServices(**resolved)


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(load_settings)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(_engine, settings)
    uow = providers.Factory(SqlUnitOfWork, engine=engine, clock=clock)
    jobs = providers.Singleton(SqlJobLedger, engine=engine, clock=clock)
    reports = providers.Singleton(SqlReports, engine=engine)

    storage = providers.Singleton(_storage, settings)
    mailer = providers.Singleton(_mailer, settings)
    email_templates = providers.Singleton(JinjaEmailTemplates, base_url=settings.provided.base_url)
    payment_gateway = providers.Singleton(_payment_gateway, settings)
    ticket_renderer = providers.Singleton(ReportlabTicketRenderer)
    password_hasher = providers.Singleton(Argon2PasswordHasher)
    links = providers.Singleton(SiteLinks, base_url=settings.provided.base_url)

    checkout_policy = providers.Singleton(_checkout_policy, settings)
    # Shared by every process: in the database, or in Redis when REDIS_URL is set.
    throttle_store = providers.Singleton(_throttle_store, settings, engine, clock)
    payments = providers.Singleton(
        Payments,
        uow=uow.provider,
        clock=clock,
        gateway=payment_gateway,
        links=links,
        polls=throttle_store,
        staff_email=settings.provided.staff_email,
    )
    ordering = providers.Singleton(
        Ordering,
        uow=uow.provider,
        clock=clock,
        policy=checkout_policy,
        payments=payments,
        throttles=throttle_store,
        checkouts_per_client=settings.provided.checkouts_per_client,
        order_context=providers.Object(_order_log_context),
    )
    order_views = providers.Singleton(
        OrderViews,
        uow=uow.provider,
        clock=clock,
        payments=payments,
        order_context=providers.Object(_order_log_context),
    )
    tickets = providers.Singleton(
        Tickets,
        uow=uow.provider,
        clock=clock,
        renderer=ticket_renderer,
        storage=storage,
        links=links,
        # The counter prints at once: four tickets to an A4 sheet, or on 80 mm receipt paper.
        print_renderers=providers.Dict(
            a4=providers.Singleton(ReportlabTicketRenderer, layout="a4"),
            bon=providers.Singleton(ReportlabTicketRenderer, layout="bon"),
        ),
    )
    counter_policy = providers.Singleton(_counter_policy, settings)
    counter = providers.Singleton(Counter, uow=uow.provider, clock=clock, policy=counter_policy)
    staff_orders = providers.Singleton(StaffOrders, uow=uow.provider, links=links)
    refunds = providers.Singleton(Refunds, uow=uow.provider, clock=clock, gateway=payment_gateway)
    waitlists = providers.Singleton(
        Waitlists,
        uow=uow.provider,
        clock=clock,
        policy=providers.Singleton(_waitlist_policy, settings),
    )
    images = providers.Singleton(
        ShowImages,
        uow=uow.provider,
        clock=clock,
        storage=storage,
        processor=providers.Singleton(PillowImageProcessor),
    )
    staff_catalog = providers.Singleton(StaffCatalog, uow=uow.provider, clock=clock)
    staff_coupons = providers.Singleton(StaffCoupons, uow=uow.provider, clock=clock)
    staff_price_categories = providers.Singleton(StaffPriceCategories, uow=uow.provider)
    staff_accounts = providers.Singleton(StaffAccounts, uow=uow.provider)
    door = providers.Singleton(Door, uow=uow.provider, clock=clock)
    offline_door = providers.Singleton(OfflineDoor, uow=uow.provider, clock=clock)
    devices = providers.Singleton(DeviceTokens, uow=uow.provider, clock=clock)
    reporting = providers.Singleton(Reporting, uow=uow.provider, reports=reports)
    reset_tokens = providers.Singleton(ResetTokens, secret_key=settings.provided.secret_key)
    limiter = providers.Singleton(ThrottleLimiter, store=throttle_store)
    accounts = providers.Singleton(
        Accounts,
        uow=uow.provider,
        clock=clock,
        hasher=password_hasher,
        limiter=limiter,
        tokens=reset_tokens,
        logins=providers.Singleton(LoginThrottle, store=throttle_store),
    )
    sessions = providers.Singleton(Sessions, uow=uow.provider, clock=clock)
    email_sender = providers.Singleton(
        EmailSender,
        uow=uow.provider,
        mailer=mailer,
        templates=email_templates,
        links=links,
        reset_url=providers.Callable(_reset_url, links, reset_tokens).provider,
        storage=storage,
    )

    __self__ = providers.Self()
    # Built anew by every create_app, so providers overridden before it reach the app.
    web_services = providers.Factory(_web_services, __self__)


def register_job_handlers(registry: JobRegistry, container: Container | None = None) -> None:
    """Every job type's core service, as the worker runs it (the worker's default hook)."""
    container = container or build_container()
    payments = container.payments()
    tickets = container.tickets()
    images = container.images()
    refunds = container.refunds()
    registry.register_command(
        CreatePayment,
        lambda command: payments.creation_job(command.order_id),
        on_give_up=lambda command, reason: payments.creation_gave_up(command.order_id, reason),
    )
    registry.register_command(
        SyncPayment, lambda command: payments.sync(command.provider_payment_id)
    )
    registry.register_command(
        CancelPayment, lambda command: payments.cancel_job(command.provider_payment_id)
    )
    registry.register_command(ExpireOrders, lambda _: {"closed": payments.expire_overdue()})
    registry.register_command(GenerateTickets, tickets.pdf_job, on_give_up=tickets.pdf_job_gave_up)
    registry.register_command(
        ProcessImage, images.processing_job, on_give_up=images.processing_gave_up
    )
    registry.register_command(SendEmail, container.email_sender())
    registry.register_command(FollowUpRefunds, lambda _: {"orders": refunds.follow_up()})
    registry.register_command(PurgeJobs, jobs_purge_handler(container.jobs(), container.clock()))
    registry.register_command(RefundOrder, refunds.refund_job)
    waitlists = container.waitlists()
    registry.register_command(
        OfferWaitlistSeats, lambda command: waitlists.offer_held_seats(command.performance_id)
    )
    registry.register_command(
        PurgeWaitlists, waitlist_purge_handler(container.uow, container.clock())
    )


def build_container(settings: Settings | None = None) -> Container:
    container = Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    return container

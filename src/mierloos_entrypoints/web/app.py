"""The Starlette application: every route, middleware and error handler, wired in one place."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Lifespan

from mierloos_adapters.fake_payments import CHECKOUT_PATH, FakePaymentProvider
from mierloos_adapters.links import (
    LOGIN,
    LOGOUT,
    ORDER_PAGE,
    PASSWORD_RESET,
    PAYMENT_WEBHOOK,
    TICKETS_DOWNLOAD,
    WAITLIST_ENTRY,
    WAITLIST_OFFER,
)
from mierloos_core.errors import MierloosError
from mierloos_entrypoints.log_redaction import install_redaction
from mierloos_entrypoints.observability import RequestLogContext
from mierloos_entrypoints.web import api, errors, operations, payments
from mierloos_entrypoints.web.inputs import BadInput
from mierloos_entrypoints.web.language import switch_language
from mierloos_entrypoints.web.pages import (
    account_security,
    accounts,
    admin,
    cart,
    catalog,
    checkout,
    my_account,
    orders,
    password_reset,
    seats,
    waitlist,
)
from mierloos_entrypoints.web.rendering import make_templates
from mierloos_entrypoints.web.routing import form_post
from mierloos_entrypoints.web.security import (
    BODY_LIMIT_OVERRIDES,
    MAX_BODY_BYTES,
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
    security_headers,
    session_middleware,
)
from mierloos_entrypoints.web.services import WebServices
from mierloos_entrypoints.web.static_files import STATIC_DIR, HashedStaticFiles

if TYPE_CHECKING:
    from mierloos_entrypoints.container import Container


def routes(*, fake_payments: bool) -> list[BaseRoute]:
    """Every URL of the visitors' site. HTML form posts are all wrapped in `csrf_protected`."""
    site: list[BaseRoute] = [
        *_catalogue_routes(),
        *_shop_routes(),
        *_account_routes(),
        Route(PAYMENT_WEBHOOK, payments.payment_webhook, methods=["POST"], name="webhook"),
        *api.routes(),
        Route("/health", operations.health, name="health"),
        Route("/metrics", operations.metrics, name="metrics"),
        Mount("/static", app=HashedStaticFiles(directory=STATIC_DIR), name="static"),
        Route("/taal/{language}", switch_language, name="switch_language"),
        *admin.routes(),
    ]
    if fake_payments:
        fake_page = CHECKOUT_PATH + "{payment_id}"
        site += [
            Route(fake_page, payments.fake_payment_page, name="fake_payment"),
            form_post(fake_page, payments.fake_payment_action, "fake_payment_action"),
        ]
    return site


def _catalogue_routes() -> list[BaseRoute]:
    """The programme: the home page, a show's page, calendar files and show images."""
    return [
        Route("/", catalog.home, name="home"),
        Route("/voorstellingen/{slug}", catalog.show, name="show"),
        Route(
            "/voorstellingen/{slug}/{performance_id}.ics",
            catalog.performance_ics,
            name="performance_ics",
        ),
        Route("/afbeeldingen/{image_id}/{size}.jpg", catalog.show_image, name="show_image"),
    ]


def _shop_routes() -> list[BaseRoute]:
    """The cart, checking out and an order's secret page."""
    return [
        Route("/winkelwagen", cart.cart_page, name="cart"),
        form_post("/winkelwagen/toevoegen", cart.add_to_cart, "cart_add"),
        form_post("/winkelwagen/verwijderen", cart.remove_from_cart, "cart_remove"),
        *seats.ROUTES,
        Route("/afrekenen", checkout.checkout_form, name="checkout"),
        form_post("/afrekenen", checkout.place_order, "checkout_post"),
        Route(ORDER_PAGE, orders.order_page, name="order"),
        Route(ORDER_PAGE + "/agenda.ics", orders.order_ics, name="order_ics"),
        form_post(ORDER_PAGE + "/betalen", orders.pay_order, "order_pay"),
        form_post("/wachtlijst/aanmelden", waitlist.join, "waitlist_join"),
        Route(WAITLIST_OFFER, waitlist.offer_page, name="waitlist_offer"),
        form_post(WAITLIST_OFFER, waitlist.accept_offer, "waitlist_offer_accept"),
        Route(WAITLIST_ENTRY, waitlist.entry_page, name="waitlist_entry"),
        form_post(WAITLIST_ENTRY + "/verlaten", waitlist.leave, "waitlist_leave"),
    ]


def _account_routes() -> list[BaseRoute]:
    """Logging in and out, the visitor's account, registering and resetting a password."""
    security_page = account_security.PASSWORD_PAGE
    forgotten = "/account/wachtwoord-vergeten"
    return [
        Route(LOGIN, accounts.login_form, name="login"),
        form_post(LOGIN, accounts.login, "login_post"),
        form_post(LOGOUT, accounts.logout, "logout"),
        Route(TICKETS_DOWNLOAD, orders.tickets_download, name="tickets_download"),
        Route(accounts.ACCOUNT_HOME, my_account.account_page, name="account"),
        Route(
            accounts.ACCOUNT_HOME + "/bestellingen/{order_id}/kaarten.pdf",
            my_account.account_tickets_download,
            name="account_tickets_download",
        ),
        Route(security_page, account_security.password_form, name="password_change"),
        form_post(security_page, account_security.change_password, "password_change_post"),
        form_post(
            account_security.LOG_OUT_EVERYWHERE,
            account_security.log_out_everywhere,
            "log_out_everywhere",
        ),
        Route("/account/registreren", accounts.register_form, name="register"),
        form_post("/account/registreren", accounts.register, "register_post"),
        Route(forgotten, password_reset.forgot_form, name="password_forgotten"),
        form_post(forgotten, password_reset.forgot, "password_forgotten_post"),
        Route(PASSWORD_RESET, password_reset.reset_form, name="password_reset"),
        form_post(PASSWORD_RESET, password_reset.reset, "password_reset_post"),
    ]


def create_app(
    container: Container,
    *,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    lifespan: Lifespan[Starlette] | None = None,
) -> Starlette:
    """The visitors' site and JSON API over the container's services.

    `webhook_transport` is how the fake provider's page reaches the webhook (tests route it
    into the app itself); by default it goes over the network to BASE_URL. `lifespan` runs
    around the app's life, e.g. the embedded worker of `mierloos serve`.
    """
    install_redaction()  # reset tokens never reach a log, however logging was set up
    web: WebServices = container.web_services()
    headers = security_headers(https=web.https)
    app = Starlette(
        routes=routes(fake_payments=isinstance(web.payment_gateway, FakePaymentProvider)),
        middleware=[
            Middleware(RequestLogContext),
            Middleware(SecurityHeadersMiddleware, headers=headers, base_url=web.settings.base_url),
            Middleware(
                BodySizeLimitMiddleware,
                max_bytes=MAX_BODY_BYTES,
                too_large=errors.too_large,
                overrides=BODY_LIMIT_OVERRIDES,
            ),
            session_middleware(web.settings.secret_key, https=web.https),
        ],
        exception_handlers={
            HTTPException: errors.http_exception,
            BadInput: errors.bad_input,
            MierloosError: errors.domain_error,
            Exception: errors.server_error_handler(headers),
        },
        lifespan=_with_thread_limit(web.settings.web_threads, lifespan),
    )
    app.state.container = container
    app.state.services = web
    app.state.templates = make_templates()
    app.state.webhook_transport = webhook_transport
    return app


def _with_thread_limit(threads: int, lifespan: Lifespan[Starlette] | None) -> Lifespan[Starlette]:
    """`lifespan`, first setting how many threads run the requests' blocking work (WEB_THREADS).

    Past the database pool's size more threads only wait for a connection, and on a small
    machine every extra runnable thread makes the GIL change hands more: in an onsale on two
    cores, 10 threads per process placed about a quarter more orders a second than anyio's
    default of 40, with a third of the checkout latency."""

    @contextlib.asynccontextmanager
    async def limited(app: Starlette) -> AsyncIterator[Mapping[str, Any] | None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if lifespan is None:
            yield None
        else:
            async with lifespan(app) as state:
                yield state

    return limited

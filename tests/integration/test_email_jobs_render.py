"""Every e-mail the core queues renders with the real templates and says what it should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mierloos_adapters.email_templates import JinjaEmailTemplates
from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import (
    FixedClock,
    MemoryMailer,
    MemoryPaymentGateway,
    MemoryRateLimiter,
    MemoryStorage,
    MemoryStore,
    MemoryThrottleStore,
    MemoryUnitOfWork,
    PlainPasswordHasher,
    TextTicketRenderer,
)
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.commands import SendEmail
from mierloos_core.model.jobs import JobType
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.accounts import Accounts, ResetTokens
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.notifications import EmailSender
from mierloos_core.services.payments import Payments
from mierloos_core.services.throttles import LoginThrottle
from mierloos_core.services.tickets import Tickets
from tests.catalog_builders import CatalogBuilder

BASE = "https://kaarten.example.nl"


@pytest.fixture
def world():
    clock = FixedClock(datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    store = MemoryStore()

    def uow():
        return MemoryUnitOfWork(store, clock)

    links = SiteLinks(BASE)
    tokens = ResetTokens("k" * 40)
    gateway = MemoryPaymentGateway()
    mailer = MemoryMailer()
    sender = EmailSender(
        uow,
        mailer,
        JinjaEmailTemplates(base_url=BASE),
        links,
        reset_url=lambda nonce: links.password_reset(tokens.token(nonce)),
    )

    class World:
        pass

    w = World()
    w.clock, w.uow, w.gateway, w.mailer = clock, uow, gateway, mailer
    w.catalog = CatalogBuilder(uow, clock)
    w.payments = Payments(uow, clock, gateway, links)
    w.tickets = Tickets(uow, clock, TextTicketRenderer(), MemoryStorage(), links)
    w.accounts = Accounts(
        uow,
        clock,
        PlainPasswordHasher(),
        MemoryRateLimiter(clock),
        tokens,
        logins=LoginThrottle(MemoryThrottleStore(clock)),
    )

    def send_all():
        with uow() as u:
            jobs = [j for j in u.jobs.list(job_type=JobType.EMAIL) if j.id not in sent]
        for job in jobs:
            sent.add(job.id)
            sender(SendEmail.from_payload(job.data))
        return mailer.sent

    sent = set()
    w.send_all = send_all
    return w


def place(w, quantity=2):
    performance = w.catalog.performance(capacity=20)
    return checkout(
        w.uow(),
        w.clock,
        CheckoutRequest(
            email="anna@example.nl",
            name="Anna de Vries",
            lines=[CartLine(performance_id=performance.id, quantity=quantity)],
        ),
    )


def by_subject_order(mails):
    return {m.subject: m for m in mails}


def test_order_mails_render_with_number_links_and_amounts(world):
    deferred = place(world)
    world.gateway.down = True
    with pytest.raises(errors.DependencyUnavailable):
        world.payments.start(deferred.order_id)
    world.payments.defer(deferred.order_id)
    world.gateway.down = False
    world.payments.creation_job(deferred.order_id)
    with world.uow() as u:
        pid = u.payments.latest_for_order(deferred.order_id).provider_payment_id
    world.gateway.set_status(pid, PaymentStatus.PAID)
    world.payments.sync(pid)
    world.tickets.generate_pdf(deferred.order_id)

    unpaid = place(world, 1)
    world.payments.creation_gave_up(unpaid.order_id, "provider down")
    world.clock.advance(timedelta(hours=2))
    world.payments.expire_overdue()

    mails = world.send_all()

    assert len(mails) == 6
    for mail in mails:
        assert mail.to == "anna@example.nl"
        assert mail.subject
        assert mail.html
        assert "Anna de Vries" in mail.text
    first = [m for m in mails if deferred.number in m.text]
    second = [m for m in mails if unpaid.number in m.text]
    assert len(first) == 4
    assert len(second) == 2
    assert any(f"{BASE}/bestelling/{deferred.secret}/kaarten.pdf" in m.text for m in first)
    assert any("https://pay.example/" in m.text for m in first)
    assert any("50" in m.text for m in first)  # 2 x 25 euro in the confirmation
    assert any(f"{BASE}/bestelling/{unpaid.secret}" in m.text for m in second)


def test_account_mails_render_with_their_links(world):
    world.accounts.register("bo@example.nl", "Bo Jansen", "Lang-Genoeg-Wachtwoord-1")
    world.accounts.request_password_reset("bo@example.nl", client="c")
    welcome, reset = world.send_all()
    assert "Bo Jansen" in welcome.text
    assert f"{BASE}/account/inloggen" in welcome.text
    assert f"{BASE}/account/wachtwoord-herstellen/" in reset.text
    assert "reset_nonce" not in reset.text


def test_a_refund_mail_renders_with_the_amount_and_the_order(world):
    from mierloos_core.model.money import Money
    from mierloos_core.services.refunds import Refunds

    placed = place(world)
    world.payments.start(placed.order_id)
    with world.uow() as u:
        pid = u.payments.latest_for_order(placed.order_id).provider_payment_id
    world.gateway.set_status(pid, PaymentStatus.PAID)
    world.payments.sync(pid)
    world.send_all()

    Refunds(world.uow, world.clock, world.gateway).refund(placed.order_id, amount=Money(1250))
    before = len(world.mailer.sent)
    [refund_mail] = world.send_all()[before:]

    assert refund_mail.subject == f"We betalen € 12,50 terug voor bestelling {placed.number}"
    assert "blijven geldig" in refund_mail.text
    assert f"{BASE}/bestelling/{placed.secret}" in refund_mail.text


def test_the_confirmation_lists_a_line_per_price_category(world):
    from mierloos_core.model.money import Money

    performance = world.catalog.performance(capacity=20)
    cjp = world.catalog.category(performance, "CJP", price=Money(1500), limit=5)
    placed = checkout(
        world.uow(),
        world.clock,
        CheckoutRequest(
            email="anna@example.nl",
            name="Anna de Vries",
            lines=[
                CartLine(performance_id=performance.id, quantity=2, category_id=cjp.id),
                CartLine(performance_id=performance.id, quantity=1),
            ],
        ),
    )
    world.payments.start(placed.order_id)
    with world.uow() as u:
        pid = u.payments.latest_for_order(placed.order_id).provider_payment_id
    world.gateway.set_status(pid, PaymentStatus.PAID)
    world.payments.sync(pid)

    confirmation = by_subject_order(world.send_all())[
        f"Bevestiging van je bestelling {placed.number}"
    ]

    assert "CJP, 2 kaarten: € 30,00" in confirmation.text
    assert "Regulier, 1 kaart: € 25,00" in confirmation.text
    assert ">CJP</td>" in confirmation.html

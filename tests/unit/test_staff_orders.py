"""StaffOrders against the memory fakes: search, detail, resending tickets, marking handled."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.jobs import JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketsPdf, TicketStatus
from mierloos_core.model.payments import Payment, PaymentEvent, PaymentStatus
from mierloos_core.services.staff_orders import MAX_PER_PAGE, InvalidSearch, StaffOrders
from tests.catalog_builders import CatalogBuilder

LINKS = SiteLinks("https://kaarten.example.nl")
KEY = "dubbelklik-0001"


@pytest.fixture
def staff_orders(store: MemoryStore, clock: FixedClock) -> StaffOrders:
    return StaffOrders(lambda: MemoryUnitOfWork(store, clock), LINKS)


@pytest.fixture
def make_order(catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock):
    def make(
        *,
        paid: bool = True,
        pdf: bool = False,
        email: str = "an@example.nl",
        needs_attention: str | None = None,
    ) -> Order:
        late = catalog.performance(catalog.show("Het Zwanenmeer"), starts_in=timedelta(days=9))
        early = catalog.performance(catalog.show("Jazz op zondag"), starts_in=timedelta(days=2))
        order = Order(
            email=email,
            name="An de Vries",
            subtotal=Money(7000),
            discount=Money(1000),
            coupon_code="WELKOM",
            created_at=clock.now(),
            expires_at=clock.now() + timedelta(minutes=15),
        )
        regular = {p.id: catalog.categories(p)[0].id for p in (late, early)}
        order.tickets = [
            Ticket(
                order_id=order.id,
                performance_id=p.id,
                category_id=regular[p.id],
                category_name="Regulier",
                price=Money(price),
            )
            for p, price in [(late, 2500), (early, 1000), (late, 2500), (early, 1000)]
        ]
        if paid:
            order.mark_paid(clock.now())
        order.needs_attention = needs_attention
        if pdf:
            order.tickets_pdf = TicketsPdf(
                key=f"orders/{order.id}/tickets-1.pdf", pages=4, size=2048, created_at=clock.now()
            )
        with MemoryUnitOfWork(store, clock) as uow:
            uow.orders.add(order)
            uow.commit()
        return order

    return make


def jobs(store: MemoryStore, clock: FixedClock, job_type: JobType) -> list:
    with MemoryUnitOfWork(store, clock) as uow:
        return uow.jobs.list(job_type=job_type)


def test_search_finds_by_email_and_filters_by_attention(staff_orders, make_order):
    flagged = make_order(email="an@example.nl", needs_attention="Kaarten mislukt")
    make_order(email="an@elders.nl")

    found = staff_orders.search("AN@", needs_attention=True)

    assert [o.id for o in found.orders] == [flagged.id]
    assert found.total == 1


def test_search_refuses_an_overlong_query_and_caps_the_page_size(staff_orders, make_order):
    make_order()

    with pytest.raises(InvalidSearch):
        staff_orders.search("x" * 101)
    assert staff_orders.search("", per_page=10_000).per_page == MAX_PER_PAGE
    assert staff_orders.search("", page=-3).page == 1


def test_the_detail_groups_tickets_per_performance_soonest_first(
    staff_orders, make_order, store, clock
):
    order = make_order()
    payment = Payment(
        order_id=order.id, provider="mollie", amount=Money(6000), created_at=clock.now()
    )
    with MemoryUnitOfWork(store, clock) as uow:
        uow.payments.add(payment)
        for minutes, status in ((5, PaymentStatus.PAID), (0, PaymentStatus.OPEN)):
            uow.payments.add_event(
                PaymentEvent(
                    payment_id=payment.id,
                    status=status,
                    at=clock.now() + timedelta(minutes=minutes),
                    source="webhook",
                )
            )
        uow.commit()

    detail = staff_orders.detail(order.id)

    assert [(line.show_title, line.quantity, line.total) for line in detail.lines] == [
        ("Jazz op zondag", 2, Money(2000)),
        ("Het Zwanenmeer", 2, Money(5000)),
    ]
    assert detail.lines[0].ticket_statuses == ((TicketStatus.VALID, 2),)
    assert detail.order.total == Money(6000)
    assert detail.payment == payment
    assert [e.status for e in detail.payment_events] == [PaymentStatus.OPEN, PaymentStatus.PAID]
    assert detail.order_url == LINKS.order_page(order.secret)
    assert detail.tickets_url is None
    assert detail.can_resend_tickets


def test_the_detail_links_the_tickets_once_the_pdf_exists(staff_orders, make_order):
    order = make_order(pdf=True)

    assert staff_orders.detail(order.id).tickets_url == LINKS.tickets_download(order.secret)


def test_the_detail_of_an_unknown_order_is_not_found(staff_orders):
    with pytest.raises(errors.OrderNotFound):
        staff_orders.detail(uuid.uuid4())


def test_resend_without_a_pdf_queues_the_pdf_once_per_request(
    staff_orders, make_order, store, clock
):
    order = make_order(pdf=False)
    before = {job.id for job in jobs(store, clock, JobType.PDF_GENERATION)}

    first = staff_orders.resend_tickets(order.id, request_key=KEY)
    double_click = staff_orders.resend_tickets(order.id, request_key=KEY)

    new = [j for j in jobs(store, clock, JobType.PDF_GENERATION) if j.id not in before]
    assert [job.data for job in new] == [{"order_id": str(order.id)}]
    assert first.job_id == double_click.job_id == new[0].id
    assert first.job_type is JobType.PDF_GENERATION
    assert jobs(store, clock, JobType.EMAIL) == []


def test_resend_with_a_pdf_queues_the_tickets_mail_again(staff_orders, make_order, store, clock):
    order = make_order(pdf=True, email="an@example.nl")

    first = staff_orders.resend_tickets(order.id, request_key=KEY)
    staff_orders.resend_tickets(order.id, request_key=KEY)
    later = staff_orders.resend_tickets(order.id, request_key="later-nog-een-keer")

    mails = jobs(store, clock, JobType.EMAIL)
    assert [(job.data["template"], job.data["to"], job.data["order_id"]) for job in mails] == [
        ("tickets_ready", "an@example.nl", str(order.id))
    ] * 2
    assert [job.id for job in mails] == [first.job_id, later.job_id]
    assert first.to == "an@example.nl"
    assert jobs(store, clock, JobType.PDF_GENERATION) == []


def test_resend_refuses_an_unpaid_order_and_queues_nothing(staff_orders, make_order, store, clock):
    order = make_order(paid=False)

    with pytest.raises(errors.InvalidTransition, match="betaalde"):
        staff_orders.resend_tickets(order.id, request_key=KEY)
    with pytest.raises(errors.OrderNotFound):
        staff_orders.resend_tickets(uuid.uuid4(), request_key=KEY)
    with pytest.raises(errors.ValidationError):
        staff_orders.resend_tickets(order.id, request_key="kort")
    assert jobs(store, clock, JobType.EMAIL) == []
    assert jobs(store, clock, JobType.PDF_GENERATION) == []


def test_marking_handled_clears_the_note_once(staff_orders, make_order, store, clock):
    order = make_order(needs_attention="Betaald nadat de bestelling was vervallen.")

    assert staff_orders.mark_handled(order.id) is True
    assert staff_orders.mark_handled(order.id) is False
    with MemoryUnitOfWork(store, clock) as uow:
        stored = uow.orders.get(order.id)
    assert stored is not None
    assert stored.needs_attention is None
    assert stored.status is OrderStatus.PAID
    with pytest.raises(errors.OrderNotFound):
        staff_orders.mark_handled(uuid.uuid4())

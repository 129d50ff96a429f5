"""An order a coupon pays for entirely: paid at checkout, no payment provider involved."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.jobs import JobType
from mierloos_core.model.orders import OrderStatus, TicketStatus
from tests.integration.web.web_support import Site, add_to_cart, check_out


def free_coupon(site: Site) -> None:
    with site.container.uow() as uow:
        uow.coupons.add(Coupon(code="VRIJKAART", kind=DiscountKind.PERCENTAGE, value=Decimal(100)))
        uow.commit()


def test_a_zero_total_is_paid_at_checkout_with_tickets_and_mail(
    site: Site, client: TestClient
) -> None:
    free_coupon(site)
    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(client, performance.id, 2)

    answer = check_out(client, coupon="vrijkaart")

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/bestelling/")
    with site.container.engine().connect() as connection:
        secret = connection.execute(text("SELECT secret FROM orders")).scalar_one()
    with site.container.uow() as uow:
        order = uow.orders.get_by_secret(secret)
    assert order is not None
    assert order.total.cents == 0
    assert order.status is OrderStatus.PAID
    assert {ticket.status for ticket in order.tickets} == {TicketStatus.VALID}
    assert isinstance(site.gateway, MemoryPaymentGateway)
    assert site.gateway.create_calls == 0
    assert site.count("payments") == 0
    assert site.jobs(JobType.PAYMENT_CREATION) == []
    assert len(site.jobs(JobType.PDF_GENERATION)) == 1
    mails = [job.data.get("template") for job in site.jobs(JobType.EMAIL)]
    assert "order_confirmed" in mails
    assert site.performance(performance.id).available_seats == performance.available_seats - 2
    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "mislukt" not in page.text

"""Tickets for the door tests: paid orders written through the unit of work."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from mierloos_core.model.orders import Order, TicketStatus
from tests.catalog_builders import CatalogBuilder
from tests.integration.web.web_support import Site, session_token

SLUG = "gebroeders-mierlo"


def tonight(site: Site, index: int = 0) -> uuid.UUID:
    return site.performances(SLUG)[index].id


def paid_tickets(site: Site, performance_id: uuid.UUID, count: int = 1) -> Order:
    catalog = CatalogBuilder(site.container.uow, site.clock)
    return catalog.order([(site.performance(performance_id), count)])


def unpaid_tickets(site: Site, performance_id: uuid.UUID) -> Order:
    catalog = CatalogBuilder(site.container.uow, site.clock)
    return catalog.order([(site.performance(performance_id), 1)], paid=False)


def set_ticket_status(site: Site, order: Order, index: int, status: TicketStatus) -> None:
    with site.container.uow() as uow:
        stored = uow.orders.get(order.id)
        assert stored is not None
        stored.tickets[index].status = status
        uow.orders.update(stored)
        uow.commit()


def door_post(client: TestClient, performance_id: uuid.UUID, action: str, **fields: str) -> dict:
    data = {"csrf_token": session_token(client), "door": "Voordeur", **fields}
    answer = client.post(f"/beheer/deur/{performance_id}/{action}", data=data)
    assert answer.status_code == 200, answer.text
    return answer.json()

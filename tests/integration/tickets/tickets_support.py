"""Helpers for the ticket integration tests: paid orders in the database, reading PDFs back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import zxingcpp

from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, Ticket
from mierloos_core.ports import Clock, UnitOfWork
from tests.integration.storage.storage_support import S3TestServer
from tests.pdf_pages import render_pages


def bucket_keys(server: S3TestServer, bucket: str) -> list[str]:
    listing = server.admin_client().list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def add_order(
    make_uow: Callable[[], UnitOfWork],
    clock: Clock,
    lines: Sequence[tuple[Performance, int]],
    *,
    paid: bool = True,
) -> Order:
    now = clock.now()
    order = Order(
        email="anna@example.nl",
        name="Anaïs Verbeek",
        subtotal=Money(sum(p.price.cents * n for p, n in lines)),
        discount=Money(0),
        created_at=now,
        expires_at=now + timedelta(minutes=15),
    )
    order.tickets = [
        Ticket(order_id=order.id, performance_id=p.id, price=p.price)
        for p, n in lines
        for _ in range(n)
    ]
    if paid:
        order.mark_paid(now)
    with make_uow() as uow:
        uow.orders.add(order)
        uow.commit()
    return order


def qr_codes_per_page(pdf: bytes, dpi: int = 110) -> list[list[str]]:
    """Render every page with pypdfium2 and read its QR codes with zxing-cpp."""
    return [
        [code.text for code in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)]
        for page in render_pages(pdf, dpi)
    ]

"""Helpers for the ticket integration tests: paid orders in the database, reading PDFs back."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, Ticket
from mierloos_core.ports import Clock, UnitOfWork
from tests.integration.storage.storage_support import S3TestServer


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


def poppler(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"`{program}` is not installed: install poppler-utils to run the ticket PDF tests",
            pytrace=False,
        )
    return path


def qr_codes_per_page(pdf: bytes, work_dir: Path, dpi: int = 110) -> list[list[str]]:
    """Rasterise every page with pdftoppm and read its QR codes with zxing-cpp."""
    source = work_dir / "tickets.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [poppler("pdftoppm"), "-r", str(dpi), "-gray", "-png", str(source), str(work_dir / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = sorted(work_dir.glob("page-*.png"))  # pdftoppm zero-pads the page numbers
    found = []
    for page in pages:
        with Image.open(page) as image:
            codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        found.append([code.text for code in codes])
    return found

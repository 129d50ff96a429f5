"""Helpers for the ticket integration tests: paid orders in the database, reading PDFs back."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import zxingcpp

from mierloos_core.model.catalog import Performance
from mierloos_core.model.orders import Order
from mierloos_core.ports import Clock, UnitOfWork
from tests.catalog_builders import CatalogBuilder
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
    return CatalogBuilder(make_uow, clock).order(lines, paid=paid)


def qr_codes_per_page(pdf: bytes, dpi: int = 110) -> list[list[str]]:
    """Render every page with pypdfium2 and read its QR codes with zxing-cpp."""
    return [
        [code.text for code in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)]
        for page in render_pages(pdf, dpi)
    ]

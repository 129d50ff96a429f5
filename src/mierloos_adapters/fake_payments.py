"""A local payment provider for the embedded default and for demos.

It keeps its payments as JSON files (one per payment) so the web process, which serves its
checkout page, and a worker in another process see the same state. The web layer shows the
page at the payment's checkout URL and calls `complete()` when the visitor presses pay, fail
or cancel; then, like Mollie, the provider POSTs `id=<payment id>` to the webhook URL.
Refunds (JSON files too) are `refunded` at once: this provider always has the money at hand.

To try the provider-down path by hand, create the file `down` in its directory (`refuse`
makes it refuse new payments and refunds); remove the file to bring it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure
from mierloos_core.model.money import Money
from mierloos_core.model.payments import (
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
    RefundStatus,
)

CHECKOUT_PATH = "/fake-payments/"
PAYMENT_LIFETIME = timedelta(minutes=15)
_FAKE_ID = re.compile(r"(tr|re)_fake[0-9a-f]{16}")


class FakePaymentProvider:
    name = "fake"

    def __init__(self, directory: Path, *, base_url: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.base_url = base_url.rstrip("/")
        self._lock = threading.Lock()

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        self._check_up()
        if (self.directory / "refuse").exists():
            raise PermanentFailure("the fake provider refuses new payments")
        key_file = self._key_path(request.idempotency_key)
        with self._lock:
            if key_file.exists():
                return self.get_payment(key_file.read_text().strip())
            payment_id = "tr_fake" + secrets.token_hex(8)
            now = datetime.now(UTC)
            record = {
                "id": payment_id,
                "status": PaymentStatus.OPEN.value,
                "amount_cents": request.amount.cents,
                "description": request.description,
                "order_id": str(request.order_id),
                "redirect_url": request.redirect_url,
                "webhook_url": request.webhook_url,
                "created_at": now.isoformat(),
                "expires_at": (now + PAYMENT_LIFETIME).isoformat(),
            }
            self._write(self._path(payment_id), record)
            # Claim the key with O_EXCL so two processes racing on it keep the first payment.
            try:
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                self._path(payment_id).unlink(missing_ok=True)
                return self.get_payment(key_file.read_text().strip())
            with os.fdopen(fd, "w") as file:
                file.write(payment_id)
            return self._to_payment(record)

    def get_payment(self, provider_payment_id: str) -> ProviderPayment:
        self._check_up()
        return self._to_payment(self.record(provider_payment_id))

    def record(self, provider_payment_id: str) -> dict[str, Any]:
        """The stored payment, for the fake checkout page."""
        if not provider_payment_id.startswith("tr_"):
            raise NotFound(provider_payment_id=provider_payment_id)
        path = self._path(provider_payment_id)
        try:
            record: dict[str, Any] = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            raise NotFound(provider_payment_id=provider_payment_id) from None
        if record["status"] == PaymentStatus.OPEN.value and self._expired(record):
            record["status"] = PaymentStatus.EXPIRED.value
        return record

    def complete(self, provider_payment_id: str, status: PaymentStatus) -> dict[str, Any]:
        """The visitor's choice on the checkout page; only an open payment changes."""
        if status not in (PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CANCELED):
            raise ValueError(f"a visitor cannot make a payment {status}")
        return self._move(provider_payment_id, status, only_open=True)

    def cancel_payment(self, provider_payment_id: str) -> ProviderPayment:
        """An open payment becomes canceled; any other stays as it is."""
        self._check_up()
        return self._to_payment(
            self._move(provider_payment_id, PaymentStatus.CANCELED, only_open=True)
        )

    def set_status(self, provider_payment_id: str, status: PaymentStatus) -> None:
        """Any status, as the provider's own systems might set it (expiry, chargebacks)."""
        self._move(provider_payment_id, status, only_open=False)

    def _move(
        self, provider_payment_id: str, status: PaymentStatus, *, only_open: bool
    ) -> dict[str, Any]:
        """The payment's record after giving it `status` (with `only_open`, if it was open)."""
        with self._lock:
            record = self.record(provider_payment_id)
            if not only_open or record["status"] == PaymentStatus.OPEN.value:
                record["status"] = status.value
                self._write(self._path(provider_payment_id), record)
            return record

    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        """Refunds of the fake provider are done at once: it always has the money at hand."""
        self._check_up()
        if (self.directory / "refuse").exists():
            raise PermanentFailure("the fake provider refuses refunds")
        key_file = self._key_path("refund:" + request.idempotency_key)
        with self._lock:
            if key_file.exists():
                return self._to_refund(self._refund_record(key_file.read_text().strip()))
            try:
                payment = self.record(request.provider_payment_id)
            except NotFound:
                raise PermanentFailure("the fake provider knows no such payment") from None
            refunded = sum(
                r["amount_cents"]
                for r in self._refund_records(request.provider_payment_id)
                if RefundStatus(r["status"]).counts
            )
            if payment["status"] != PaymentStatus.PAID.value:
                raise PermanentFailure("the fake provider refunds paid payments only")
            if not 0 < request.amount.cents <= payment["amount_cents"] - refunded:
                raise PermanentFailure("the refund is more than what is left of the payment")
            record: dict[str, Any] = {
                "id": "re_fake" + secrets.token_hex(8),
                "payment_id": request.provider_payment_id,
                "status": RefundStatus.REFUNDED.value,
                "amount_cents": request.amount.cents,
                "description": request.description,
                "created_at": datetime.now(UTC).isoformat(),
            }
            self._write(self._path(record["id"]), record)
            key_file.write_text(record["id"])
            return self._to_refund(record)

    def get_refund(self, provider_payment_id: str, provider_refund_id: str) -> ProviderRefund:
        self._check_up()
        record = self._refund_record(provider_refund_id)
        if record["payment_id"] != provider_payment_id:
            raise NotFound(provider_refund_id=provider_refund_id)
        return self._to_refund(record)

    def set_refund_status(self, provider_refund_id: str, status: RefundStatus) -> None:
        with self._lock:
            record = self._refund_record(provider_refund_id)
            record["status"] = status.value
            self._write(self._path(provider_refund_id), record)

    def _refund_record(self, provider_refund_id: str) -> dict[str, Any]:
        if not provider_refund_id.startswith("re_"):
            raise NotFound(provider_refund_id=provider_refund_id)
        try:
            record: dict[str, Any] = json.loads(self._path(provider_refund_id).read_text())
        except (FileNotFoundError, ValueError):
            raise NotFound(provider_refund_id=provider_refund_id) from None
        return record

    def _refund_records(self, provider_payment_id: str) -> list[dict[str, Any]]:
        records = (json.loads(path.read_text()) for path in self.directory.glob("re_fake*.json"))
        return [r for r in records if r["payment_id"] == provider_payment_id]

    @staticmethod
    def _to_refund(record: dict[str, Any]) -> ProviderRefund:
        return ProviderRefund(
            provider_refund_id=record["id"],
            provider_payment_id=record["payment_id"],
            status=RefundStatus(record["status"]),
            amount=Money(record["amount_cents"]),
        )

    def _check_up(self) -> None:
        if (self.directory / "down").exists():
            raise DependencyUnavailable("the fake payment provider is down")

    def _expired(self, record: dict[str, Any]) -> bool:
        return datetime.fromisoformat(record["expires_at"]) <= datetime.now(UTC)

    def _to_payment(self, record: dict[str, Any]) -> ProviderPayment:
        open_ = record["status"] == PaymentStatus.OPEN.value
        return ProviderPayment(
            provider_payment_id=record["id"],
            status=PaymentStatus(record["status"]),
            amount=Money(record["amount_cents"]),
            order_id=uuid.UUID(record["order_id"]),
            checkout_url=f"{self.base_url}{CHECKOUT_PATH}{record['id']}" if open_ else None,
            expires_at=datetime.fromisoformat(record["expires_at"]),
            cancelable=open_,
        )

    def _path(self, provider_id: str) -> Path:
        if not _FAKE_ID.fullmatch(provider_id):
            raise NotFound(provider_id=provider_id)
        return self.directory / f"{provider_id}.json"

    def _key_path(self, idempotency_key: str) -> Path:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        return self.directory / f"key-{digest}"

    def _write(self, path: Path, record: dict[str, Any]) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "w") as file:
            json.dump(record, file)
        os.replace(temporary, path)

"""The payment provider's webhook calls, taken in: each queues at most one sync of a payment.

Nothing is processed inline: the queued job asks the provider for the payment, the only
trusted source of its status (see `payments.queue_webhook`).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from mierloos_core.ports import UnitOfWork
from mierloos_core.services.payments import queue_webhook


@attrs.define(eq=False)
class PaymentWebhooks:
    uow: Callable[[], UnitOfWork]

    def receive(self, provider_payment_id: str) -> bool:
        """Queue a sync for this payment; False (and nothing queued) for an id we never opened."""
        return queue_webhook(self.uow(), provider_payment_id)

"""The site's public URLs, for payment providers and e-mails. The web routes use the same paths."""

from __future__ import annotations

import uuid

ORDER_PAGE = "/bestelling/{secret}"
TICKETS_DOWNLOAD = "/bestelling/{secret}/kaarten.pdf"
PAYMENT_WEBHOOK = "/webhooks/payments"
LOGIN = "/account/inloggen"
ADMIN_ORDER = "/beheer/bestellingen/{order_id}"
LOGOUT = "/account/uitloggen"
WAITLIST_ENTRY = "/wachtlijst/{token}"
WAITLIST_OFFER = "/wachtlijst/aanbod/{secret}"
PASSWORD_RESET = "/account/wachtwoord-herstellen/{token}"  # noqa: S105 - a path


class SiteLinks:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def order_page(self, order_secret: str) -> str:
        return self.base_url + ORDER_PAGE.format(secret=order_secret)

    def payment_webhook(self) -> str:
        return self.base_url + PAYMENT_WEBHOOK

    def password_reset(self, token: str) -> str:
        return self.base_url + PASSWORD_RESET.format(token=token)

    def waitlist_entry(self, token: str) -> str:
        return self.base_url + WAITLIST_ENTRY.format(token=token)

    def waitlist_offer(self, order_secret: str) -> str:
        return self.base_url + WAITLIST_OFFER.format(secret=order_secret)

    def tickets_download(self, order_secret: str) -> str:
        return self.base_url + TICKETS_DOWNLOAD.format(secret=order_secret)

    def login(self) -> str:
        return self.base_url + LOGIN

    def agenda(self) -> str:
        return self.base_url + "/"

    def admin_order(self, order_id: uuid.UUID) -> str:
        return self.base_url + ADMIN_ORDER.format(order_id=order_id)

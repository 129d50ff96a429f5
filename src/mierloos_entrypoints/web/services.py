"""What the web entry points need from the container, resolved once when the app is built.

The container's `web_services` provider builds it, each field from the container's provider
of the same name (a new service here needs a provider by that name); endpoints reach it
through `services(request)`. Tests and embedders override container providers (clock, payment
gateway, ...) before calling `create_app`.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
from starlette.requests import HTTPConnection

from mierloos_core.ports import (
    Clock,
    JobLedger,
    ObjectStorage,
    PaymentGateway,
    RateLimiter,
    UnitOfWork,
)
from mierloos_core.services.accounts import Accounts
from mierloos_core.services.checkout import CheckoutPolicy
from mierloos_core.services.counter import Counter
from mierloos_core.services.door import Door
from mierloos_core.services.door_devices import DeviceTokens
from mierloos_core.services.door_offline import OfflineDoor
from mierloos_core.services.images import ShowImages
from mierloos_core.services.order_views import OrderViews
from mierloos_core.services.ordering import Ordering
from mierloos_core.services.payments import Payments
from mierloos_core.services.refunds import Refunds
from mierloos_core.services.reports import Reporting
from mierloos_core.services.sessions import Sessions
from mierloos_core.services.staff_accounts import StaffAccounts
from mierloos_core.services.staff_catalog import StaffCatalog
from mierloos_core.services.staff_coupons import StaffCoupons
from mierloos_core.services.staff_orders import StaffOrders
from mierloos_core.services.staff_price_categories import StaffPriceCategories
from mierloos_core.services.tickets import Tickets
from mierloos_core.services.waitlist import Waitlists
from mierloos_entrypoints.config import Settings


@attrs.frozen(kw_only=True)
class WebServices:
    settings: Settings
    clock: Clock
    uow: Callable[[], UnitOfWork]
    payments: Payments
    ordering: Ordering
    order_views: OrderViews
    payment_gateway: PaymentGateway
    checkout_policy: CheckoutPolicy
    storage: ObjectStorage
    accounts: Accounts
    sessions: Sessions
    jobs: JobLedger
    limiter: RateLimiter
    tickets: Tickets
    counter: Counter
    staff_orders: StaffOrders
    refunds: Refunds
    staff_catalog: StaffCatalog
    staff_coupons: StaffCoupons
    staff_price_categories: StaffPriceCategories
    staff_accounts: StaffAccounts
    images: ShowImages
    door: Door
    offline_door: OfflineDoor
    devices: DeviceTokens
    waitlists: Waitlists
    reporting: Reporting

    @property
    def https(self) -> bool:
        return self.settings.base_url.startswith("https://")


def services(connection: HTTPConnection) -> WebServices:
    found: WebServices = connection.app.state.services
    return found

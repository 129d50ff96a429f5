"""In-memory fakes of every port, for unit tests and for embedders who want no I/O at all.

They keep the rules of the real adapters (key checks, duplicate refusals, copies on read), so
the contract tests run against both. By concept:

- `store`: `MemoryStore`, the tables every repository shares, and the repository base class.
- `repositories`: one repository per aggregate (shows, performances and seats, coupons,
  orders, payments, refunds, users, reset tokens, login sessions, images), and
  `MemoryUnitOfWork` over them, serialised by the store's lock and rolled back by snapshot.
- `price_categories`: performances' price categories, shows' default sets, seats per category.
- `door`: admissions, the scan log and the check-in API's device tokens.
- `waitlists`, `seating`: waiting lists, and plans with each performance's seat states.
- `reports`: the same figures and export lines as the SQL reports, computed in Python.
- `jobs`: the job queue a unit of work writes to, and the job ledger staff read.
- `services`: a fixed clock, object storage, mail, e-mail templates, the ticket renderer and
  the password hasher.
- `payments`: a payment provider that tests steer.
- `throttles`: rate limiting and throttle counters in this process's memory.
- `images`: an image processor in pure Python that reads headers, never pixels.

Production's clock is `mierloos_adapters.clock.SystemClock`; it is re-exported here for the
imports that name it from this package.
"""

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.memory.images import MemoryImageProcessor
from mierloos_adapters.memory.jobs import MemoryJobLedger, MemoryJobQueue
from mierloos_adapters.memory.payments import MemoryPaymentGateway
from mierloos_adapters.memory.price_categories import MemoryPriceCategories
from mierloos_adapters.memory.repositories import (
    MemoryCoupons,
    MemoryImages,
    MemoryLoginSessions,
    MemoryOrders,
    MemoryPayments,
    MemoryPerformances,
    MemoryRefunds,
    MemoryResetTokens,
    MemorySeatInventory,
    MemoryShows,
    MemoryUnitOfWork,
    MemoryUsers,
)
from mierloos_adapters.memory.services import (
    FixedClock,
    MemoryMailer,
    MemoryStorage,
    PlainEmailTemplates,
    PlainPasswordHasher,
    TextTicketRenderer,
)
from mierloos_adapters.memory.store import MemoryStore
from mierloos_adapters.memory.throttles import MemoryRateLimiter, MemoryThrottleStore

__all__ = [
    "FixedClock",
    "MemoryCoupons",
    "MemoryImageProcessor",
    "MemoryImages",
    "MemoryJobLedger",
    "MemoryJobQueue",
    "MemoryLoginSessions",
    "MemoryMailer",
    "MemoryOrders",
    "MemoryPaymentGateway",
    "MemoryPayments",
    "MemoryPerformances",
    "MemoryPriceCategories",
    "MemoryRateLimiter",
    "MemoryRefunds",
    "MemoryResetTokens",
    "MemorySeatInventory",
    "MemoryShows",
    "MemoryStorage",
    "MemoryStore",
    "MemoryThrottleStore",
    "MemoryUnitOfWork",
    "MemoryUsers",
    "PlainEmailTemplates",
    "PlainPasswordHasher",
    "SystemClock",
    "TextTicketRenderer",
]

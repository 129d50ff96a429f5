"""The ports: what the core needs from the outside world, as small typing.Protocols.

Every port has a memory fake in `mierloos_adapters.memory` and a contract test that runs the
same assertions against the fake and the real adapter. By concept:

- `repositories`: the unit of work and the repositories it holds (one transaction);
- `door`: admissions with the scan log, and the check-in API's device tokens;
- `seating`: halls, seat plan versions and each reserved performance's seat states;
- `jobs`: the job queue a unit of work writes to, and the ledger of jobs staff read;
- `reports`: the read side of the staff reports (figures and export lines);
- `services`: the rest of the outside world (time, payments, storage, mail, rendering,
  throttles, password hashing, images).

Import them from here: ``from mierloos_core.ports import UnitOfWork``.
"""

from __future__ import annotations

from mierloos_core.ports.door import AdmissionRepository, DeviceTokenRepository
from mierloos_core.ports.jobs import (
    JobAttemptError,
    JobDetails,
    JobLedger,
    JobPage,
    JobQueue,
    JobSearch,
    JobSummary,
    NewJob,
)
from mierloos_core.ports.repositories import (
    CouponRepository,
    ImageRepository,
    LoginSessionRepository,
    OrderRepository,
    OrderSearch,
    OrderSearchPage,
    OrderSummary,
    PasswordResetTokenRepository,
    PaymentRepository,
    PerformanceRepository,
    PriceCategoryRepository,
    RefundRepository,
    SalesTotal,
    SeatInventory,
    ShowRepository,
    UnitOfWork,
    UserRepository,
    WaitlistRepository,
)
from mierloos_core.ports.seating import SeatingRepository
from mierloos_core.ports.services import (
    Clock,
    EmailTemplates,
    ImageProcessor,
    Links,
    Mailer,
    ObjectStorage,
    PasswordHasher,
    PaymentGateway,
    RateLimiter,
    ThrottleStore,
    TicketRenderer,
)

__all__ = [
    "AdmissionRepository",
    "Clock",
    "CouponRepository",
    "DeviceTokenRepository",
    "EmailTemplates",
    "ImageProcessor",
    "ImageRepository",
    "JobAttemptError",
    "JobDetails",
    "JobLedger",
    "JobPage",
    "JobQueue",
    "JobSearch",
    "JobSummary",
    "Links",
    "LoginSessionRepository",
    "Mailer",
    "NewJob",
    "ObjectStorage",
    "OrderRepository",
    "OrderSearch",
    "OrderSearchPage",
    "OrderSummary",
    "PasswordHasher",
    "PasswordResetTokenRepository",
    "PaymentGateway",
    "PaymentRepository",
    "PerformanceRepository",
    "PriceCategoryRepository",
    "RateLimiter",
    "RefundRepository",
    "SalesTotal",
    "SeatInventory",
    "SeatingRepository",
    "ShowRepository",
    "ThrottleStore",
    "TicketRenderer",
    "UnitOfWork",
    "UserRepository",
    "WaitlistRepository",
]

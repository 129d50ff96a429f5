"""What most services are built from: a unit of work per use case, and the clock."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from mierloos_core.ports import Clock, UnitOfWork


@attrs.define(eq=False)
class Service:
    """A service whose use cases each open a fresh unit of work (`with self.uow() as uow:`)
    and read the time from `clock`. Subclasses add the other ports they need after these two,
    so `Service(uow, clock)` stays the first two arguments of every one of them."""

    uow: Callable[[], UnitOfWork]
    clock: Clock

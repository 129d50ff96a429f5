"""AdmissionRepository and DeviceTokenRepository through the door's services: the same
assertions for the memory fake, SQLite and Postgres, and the race of two doors on Postgres."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core.model.admissions import ScanResult, secret_hash
from mierloos_core.model.orders import TicketStatus
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.door import Door, Entrance
from mierloos_core.services.door_devices import DeviceTokens, token_hash
from mierloos_core.services.door_offline import OfflineDoor, OfflineScan
from tests.catalog_builders import CatalogBuilder

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_uow(request: pytest.FixtureRequest, clock: FixedClock) -> MakeUow:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store, clock)
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return lambda: SqlUnitOfWork(engine, clock)


def test_scans_admit_once_and_say_why_not(make_uow: MakeUow, clock: FixedClock) -> None:
    catalog = CatalogBuilder(make_uow, clock)
    tonight, other = catalog.performance(), catalog.performance()
    cjp = catalog.category(tonight, "CJP")
    order = catalog.order([(tonight, 1), (tonight, 1, cjp), (other, 1)])
    unpaid = catalog.order([(tonight, 1)], paid=False)
    door = Door(make_uow, clock)
    front = Entrance(performance_id=tonight.id, door="Voordeur", staff="kassa@theater.nl")
    side = Entrance(performance_id=tonight.id, door="Zijdeur", staff="deur@theater.nl")
    first, second, elsewhere = order.tickets

    welcome = door.check_in(front, f"  {first.secret}\n")
    assert welcome.result is ScanResult.ADMITTED
    assert welcome.ticket is not None
    assert welcome.ticket.holder_name == "Anaïs Verbeek"
    assert welcome.ticket.category_name == "Regulier"

    clock.advance(timedelta(seconds=30))
    again = door.check_in(side, first.secret)
    assert again.result is ScanResult.ALREADY_ADMITTED
    assert again.admission is not None
    assert (again.admission.door, again.admission.by) == ("Voordeur", "kassa@theater.nl")
    assert again.admission.at == welcome.scanned_at

    wrong = door.check_in(front, elsewhere.secret)
    assert wrong.result is ScanResult.OTHER_PERFORMANCE
    assert wrong.other_performance is not None
    assert wrong.other_performance.id == other.id
    assert door.check_in(front, unpaid.tickets[0].secret).result is ScanResult.UNPAID
    assert door.check_in(front, "x" * 43).result is ScanResult.UNKNOWN
    assert door.check_in(front, "garbage" * 1000).result is ScanResult.UNKNOWN

    counts = {c.category_name: (c.admitted, c.sold) for c in door.counts(tonight.id)}
    assert counts == {"Regulier": (1, 1), "CJP": (0, 1)}
    assert door.check_in(front, second.secret).result is ScanResult.ADMITTED

    # Undo takes back this door's last admission, once.
    clock.advance(timedelta(seconds=5))
    undone = door.undo_last(front)
    assert undone is not None
    assert undone.result is ScanResult.UNDONE
    assert door.undo_last(front) is None
    assert door.undo_last(side) is None  # the side door admitted nobody
    counts = {c.category_name: (c.admitted, c.sold) for c in door.counts(tonight.id)}
    assert counts == {"Regulier": (1, 1), "CJP": (0, 1)}
    clock.advance(timedelta(seconds=5))
    assert door.check_in(side, second.secret).result is ScanResult.ADMITTED

    log = door.recent_scans(tonight.id)
    assert len(log) == 9
    assert log[0].result is ScanResult.ADMITTED
    assert log[0].door == "Zijdeur"
    assert {scan.result for scan in log} >= {
        ScanResult.UNKNOWN,
        ScanResult.UNPAID,
        ScanResult.OTHER_PERFORMANCE,
        ScanResult.UNDONE,
    }


def test_refunded_and_cancelled_tickets_stay_out(make_uow: MakeUow, clock: FixedClock) -> None:
    catalog = CatalogBuilder(make_uow, clock)
    tonight = catalog.performance()
    order = catalog.order([(tonight, 2)])
    with make_uow() as uow:
        stored = uow.orders.get(order.id)
        assert stored is not None
        stored.tickets[0].status = TicketStatus.REFUNDED
        stored.tickets[1].status = TicketStatus.CANCELLED
        uow.orders.update(stored)
        uow.commit()
    door = Door(make_uow, clock)
    front = Entrance(performance_id=tonight.id, door="Voordeur", staff="x")
    assert door.check_in(front, order.tickets[0].secret).result is ScanResult.REFUNDED
    assert door.check_in(front, order.tickets[1].secret).result is ScanResult.CANCELLED
    assert door.counts(tonight.id) == []


def test_offline_list_and_upload_first_scan_wins(make_uow: MakeUow, clock: FixedClock) -> None:
    catalog = CatalogBuilder(make_uow, clock)
    tonight, other = catalog.performance(), catalog.performance()
    order = catalog.order([(tonight, 3), (other, 1)])
    a, b, c, elsewhere = order.tickets
    offline = OfflineDoor(make_uow, clock)
    listed = offline.door_list(tonight.id)
    assert {e.secret_sha256 for e in listed.entries} == {secret_hash(t.secret) for t in (a, b, c)}
    assert all(e.holder_name == "Anaïs Verbeek" for e in listed.entries)

    online = Door(make_uow, clock).check_in(
        Entrance(performance_id=tonight.id, door="Voordeur", staff="kassa"), c.secret
    )
    assert online.result is ScanResult.ADMITTED
    start = clock.now() - timedelta(minutes=10)
    report = offline.upload(
        tonight.id,
        [
            # out of order on purpose: the earlier scan of `a` wins
            OfflineScan(
                code=secret_hash(a.secret), scanned_at=start + timedelta(minutes=2), door="Zijdeur"
            ),
            OfflineScan(code=secret_hash(a.secret).upper(), scanned_at=start, door="Balkon"),
            OfflineScan(code=b.secret, scanned_at=start + timedelta(minutes=1), door="Zijdeur"),
            OfflineScan(code=secret_hash(c.secret), scanned_at=start, door="Zijdeur"),
            OfflineScan(code="0" * 64, scanned_at=start, door="Zijdeur"),
            OfflineScan(code=elsewhere.secret, scanned_at=start, door="Zijdeur"),
        ],
        staff="deur",
    )
    assert [(line.ticket_id, line.door) for line in report.admitted] == [
        (a.id, "Balkon"),
        (b.id, "Zijdeur"),
    ]
    conflicts = {(line.ticket_id, line.door): line.admission for line in report.conflicts}
    assert set(conflicts) == {(a.id, "Zijdeur"), (c.id, "Zijdeur")}
    assert conflicts[(a.id, "Zijdeur")].door == "Balkon"  # type: ignore[union-attr]
    assert conflicts[(c.id, "Zijdeur")].door == "Voordeur"  # type: ignore[union-attr]
    assert sorted(line.result for line in report.refused) == [
        ScanResult.OTHER_PERFORMANCE,
        ScanResult.UNKNOWN,
    ]
    counts = Door(make_uow, clock).counts(tonight.id)
    assert [(x.admitted, x.sold) for x in counts] == [(3, 3)]


def test_device_tokens_are_stored_hashed_scoped_and_revocable(
    make_uow: MakeUow, clock: FixedClock
) -> None:
    catalog = CatalogBuilder(make_uow, clock)
    tonight, other = catalog.performance(), catalog.performance()
    devices = DeviceTokens(make_uow, clock)
    one = devices.create("Scanner  1", tonight.id, "admin@theater.nl")
    every = devices.create("Telefoon", None, "admin@theater.nl")
    assert one.device.name == "Scanner 1"
    with make_uow() as uow:
        stored = uow.devices.get_by_hash(token_hash(one.token))
    assert stored is not None
    assert stored.token_hash != one.token
    assert devices.authorise(one.token, tonight.id).id == one.device.id
    assert devices.authorise(every.token, other.id).id == every.device.id
    from mierloos_core.services.door_devices import DeviceNotAuthorised, DeviceOutOfScope

    with pytest.raises(DeviceOutOfScope):
        devices.authorise(one.token, other.id)
    with pytest.raises(DeviceNotAuthorised):
        devices.authorise(one.token + "x", tonight.id)
    assert devices.revoke(one.device.id)
    assert not devices.revoke(one.device.id)
    with pytest.raises(DeviceNotAuthorised):
        devices.authorise(one.token, tonight.id)
    assert [d.name for d in devices.list()] == ["Scanner 1", "Telefoon"] or [
        d.name for d in devices.list()
    ] == ["Telefoon", "Scanner 1"]


def test_two_doors_scanning_the_same_ticket_at_once_admit_it_once(
    postgres_engine: object, clock: FixedClock
) -> None:
    from sqlalchemy import Engine

    from tests.integration.conftest import empty_all_tables

    assert isinstance(postgres_engine, Engine)
    empty_all_tables(postgres_engine)

    def make() -> UnitOfWork:
        return SqlUnitOfWork(postgres_engine, clock)

    catalog = CatalogBuilder(make, clock)
    tonight = catalog.performance()
    tickets = catalog.order([(tonight, 20)]).tickets
    door = Door(make, clock)
    results: list[tuple[str, ScanResult]] = []
    lock = threading.Lock()

    def scan(name: str, barrier: threading.Barrier, secret: str) -> None:
        entrance = Entrance(performance_id=tonight.id, door=name, staff=name)
        barrier.wait()
        outcome = door.check_in(entrance, secret)
        with lock:
            results.append((secret, outcome.result))

    for ticket in tickets:
        barrier = threading.Barrier(4)
        threads = [
            threading.Thread(target=scan, args=(f"Deur {n}", barrier, ticket.secret))
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for ticket in tickets:
        outcomes = sorted(r for s, r in results if s == ticket.secret)
        assert outcomes == [ScanResult.ADMITTED] + [ScanResult.ALREADY_ADMITTED] * 3
    assert [(c.admitted, c.sold) for c in door.counts(tonight.id)] == [(20, 20)]

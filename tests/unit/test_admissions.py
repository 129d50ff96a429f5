"""The door's rules: what scanned text means, who may enter, and where a scan is made."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from mierloos_core.model.admissions import (
    Admission,
    DeviceToken,
    DoorTicket,
    ScanResult,
    is_secret_hash,
    refusal,
    secret_hash,
    ticket_code,
)
from mierloos_core.model.ids import new_secret
from mierloos_core.model.orders import TicketStatus
from mierloos_core.services.door import Entrance, InvalidDoor

NOW = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
TONIGHT = uuid.uuid4()


def ticket(**changes: object) -> DoorTicket:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "order_id": uuid.uuid4(),
        "performance_id": TONIGHT,
        "category_name": "Regulier",
        "holder_name": "An",
        "status": TicketStatus.VALID,
        "order_paid": True,
        "secret": new_secret(),
    }
    values.update(changes)
    return DoorTicket(**values)  # type: ignore[arg-type]


def test_scanned_text_is_the_bare_secret_with_whitespace_around_it() -> None:
    secret = new_secret()
    assert ticket_code(secret) == secret
    assert ticket_code(f"  {secret}\r\n") == secret
    assert ticket_code(secret[:-1]) is None
    assert ticket_code(secret + "x") is None
    assert ticket_code(f"https://example.nl/{secret}") is None
    assert ticket_code(" " * 150 + secret + " " * 100) is None  # absurd: refused by length
    assert ticket_code("") is None
    assert ticket_code("é" * 43) is None


def test_the_offline_list_carries_the_sha256_of_a_secret() -> None:
    digest = secret_hash("abc")
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert is_secret_hash(digest)
    assert not is_secret_hash(digest.upper())
    assert not is_secret_hash(digest[:-1])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),
        ({"performance_id": uuid.uuid4()}, ScanResult.OTHER_PERFORMANCE),
        ({"status": TicketStatus.REFUNDED}, ScanResult.REFUNDED),
        ({"status": TicketStatus.CANCELLED}, ScanResult.CANCELLED),
        ({"status": TicketStatus.RESERVED, "order_paid": False}, ScanResult.UNPAID),
        ({"order_paid": False}, ScanResult.UNPAID),
        ({"admission": Admission(at=NOW, door="Voordeur", by="x")}, ScanResult.ALREADY_ADMITTED),
        # another performance is said first: the visitor is at the wrong door altogether
        (
            {"performance_id": uuid.uuid4(), "status": TicketStatus.REFUNDED},
            ScanResult.OTHER_PERFORMANCE,
        ),
    ],
)
def test_who_may_enter(changes: dict[str, object], expected: ScanResult | None) -> None:
    assert refusal(ticket(**changes), TONIGHT) is expected


def test_an_unknown_ticket_is_refused() -> None:
    assert refusal(None, TONIGHT) is ScanResult.UNKNOWN


def test_every_result_has_a_dutch_label() -> None:
    assert ScanResult.ADMITTED.label == "Welkom"
    assert "al binnen" in ScanResult.ALREADY_ADMITTED.label
    assert all(result.label for result in ScanResult)
    assert [result for result in ScanResult if result.admits] == [ScanResult.ADMITTED]


def test_a_door_has_a_name_of_sensible_length() -> None:
    assert Entrance(performance_id=TONIGHT, door="  Voordeur ", staff="x").door == "Voordeur"
    for door in ("", "   ", "x" * 61):
        with pytest.raises(InvalidDoor):
            Entrance(performance_id=TONIGHT, door=door, staff="x")


def test_a_device_token_is_scoped_and_revocable() -> None:
    scoped = DeviceToken(
        name="Scanner", token_hash="h", created_by="a", created_at=NOW, performance_id=TONIGHT
    )
    anywhere = DeviceToken(name="Telefoon", token_hash="h2", created_by="a", created_at=NOW)
    assert scoped.allows(TONIGHT)
    assert not scoped.allows(uuid.uuid4())
    assert anywhere.allows(uuid.uuid4())
    revoked = DeviceToken(
        name="Oud", token_hash="h3", created_by="a", created_at=NOW, revoked_at=NOW
    )
    assert not revoked.allows(TONIGHT)

"""The job contract: each command's payload and dedupe key, as stored rows have them."""

from __future__ import annotations

import uuid

import pytest

from mierloos_core import errors
from mierloos_core.model.commands import (
    COMMANDS,
    CancelPayment,
    Command,
    CreatePayment,
    ExpireOrders,
    FollowUpRefunds,
    GenerateTickets,
    ProcessImage,
    PurgeJobs,
    PurgeWaitlists,
    RefundOrder,
    SendEmail,
    SyncPayment,
)
from mierloos_core.model.jobs import JobType
from mierloos_core.model.money import Money
from mierloos_core.services.jobs import JobRegistry, is_retryable

ORDER = uuid.UUID("6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b")
IMAGE = uuid.UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")


def test_every_job_type_has_one_command() -> None:
    assert set(COMMANDS) == set(JobType)
    assert all(command.job_type is job_type for job_type, command in COMMANDS.items())


@pytest.mark.parametrize(
    ("command", "payload", "dedupe_key"),
    [
        (CreatePayment(order_id=ORDER), {"order_id": str(ORDER)}, f"payment_creation:{ORDER}"),
        (
            CreatePayment(order_id=ORDER, replacing="tr_1"),
            {"order_id": str(ORDER)},
            f"payment_creation:{ORDER}:after:tr_1",
        ),
        (
            SyncPayment(provider_payment_id="tr_1"),
            {"provider_payment_id": "tr_1"},
            "payment_webhook:tr_1",
        ),
        (
            CancelPayment(provider_payment_id="tr_1"),
            {"provider_payment_id": "tr_1"},
            "payment_cancel:tr_1",
        ),
        (
            RefundOrder(order_id=ORDER, request_key="late-ab", reason="Te laat"),
            {"order_id": str(ORDER), "request_key": "late-ab", "reason": "Te laat"},
            f"refund:{ORDER}:late-ab",
        ),
        (
            RefundOrder(order_id=ORDER, request_key="cancel-cd", reason="", amount=Money(750)),
            {"order_id": str(ORDER), "request_key": "cancel-cd", "reason": "", "amount_cents": 750},
            f"refund:{ORDER}:cancel-cd",
        ),
        (GenerateTickets(order_id=ORDER), {"order_id": str(ORDER)}, f"pdf:{ORDER}"),
        (
            GenerateTickets(order_id=ORDER, resend_key="k" * 8),
            {"order_id": str(ORDER)},
            f"pdf:{ORDER}:resend:kkkkkkkk",
        ),
        (ProcessImage(image_id=IMAGE), {"image_id": str(IMAGE)}, f"image:{IMAGE}"),
        (
            SendEmail(template="password_reset", to="a@example.nl", context={"n": 1}),
            {
                "template": "password_reset",
                "to": "a@example.nl",
                "locale": "nl",
                "context": {"n": 1},
            },
            None,
        ),
        (
            SendEmail(
                template="tickets_ready",
                to="a@example.nl",
                order_id=ORDER,
                attach_tickets=True,
                once_key="orders/x.pdf",
            ),
            {
                "template": "tickets_ready",
                "to": "a@example.nl",
                "locale": "nl",
                "order_id": str(ORDER),
                "attach_tickets": True,
            },
            "email:tickets_ready:orders/x.pdf",
        ),
        (ExpireOrders(), {}, None),
        (FollowUpRefunds(), {}, None),
        (PurgeJobs(older_than_days=30), {"older_than_days": 30}, None),
        (PurgeWaitlists(older_than_days=7.5), {"older_than_days": 7.5}, None),
    ],
)
def test_payloads_and_dedupe_keys_stay_as_stored(
    command: Command, payload: dict[str, object], dedupe_key: str | None
) -> None:
    assert command.to_payload() == payload
    assert command.dedupe_key == dedupe_key
    read = type(command).from_payload(payload)
    assert read.to_payload() == payload


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        (CreatePayment, {}),
        (CreatePayment, {"order_id": "not-a-uuid"}),
        (GenerateTickets, {"order_id": None}),
        (SyncPayment, {"provider_payment_id": 12}),
        (CancelPayment, {"provider_payment_id": ""}),
        (ProcessImage, {"image_id": "nope"}),
        (RefundOrder, {"order_id": str(ORDER)}),
        (RefundOrder, {"order_id": str(ORDER), "request_key": "k", "amount_cents": "x"}),
        (SendEmail, {"to": "a@example.nl"}),
        (SendEmail, {"template": "t", "to": "a@example.nl", "order_id": "nope"}),
        (PurgeJobs, {"older_than_days": True}),
        (PurgeJobs, {"older_than_days": 0}),
        (PurgeWaitlists, {}),
        (PurgeWaitlists, {"older_than_days": -1}),
    ],
)
def test_a_payload_that_cannot_be_read_is_a_permanent_failure(
    command: type[Command], payload: dict[str, object]
) -> None:
    with pytest.raises(errors.PermanentFailure):
        command.from_payload(payload)


def test_the_registry_hands_the_handler_the_command_read_once() -> None:
    handled: list[GenerateTickets] = []
    gave_up: list[tuple[GenerateTickets, str]] = []
    registry = JobRegistry()
    registry.register_command(
        GenerateTickets, handled.append, on_give_up=lambda c, r: gave_up.append((c, r))
    )

    registry.run("pdf_generation", {"order_id": str(ORDER)})
    with pytest.raises(errors.PermanentFailure) as raised:
        registry.run("pdf_generation", {"order_id": "nope"})
    registry.gave_up("pdf_generation", {"order_id": str(ORDER)}, "storage down")
    registry.gave_up("pdf_generation", {}, "nothing to act on")

    assert handled == [GenerateTickets(order_id=ORDER)]
    assert not is_retryable(raised.value)
    assert gave_up == [(GenerateTickets(order_id=ORDER), "storage down")]

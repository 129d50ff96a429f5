"""The fake provider's webhook call over the network: the request a webhook endpoint gets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from mierloos_entrypoints.web.payments import call_webhook, webhook_payment_id

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own: a browser test in the same process may hold an
    event loop running in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def _call_and_receive(status: str) -> tuple[bytes, bytes]:
    """Call the webhook at a one-shot server answering `status`; the head and body it got."""
    received: asyncio.Future[tuple[bytes, bytes]] = asyncio.get_running_loop().create_future()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()
        received.set_result((head, body))

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        await call_webhook(f"http://127.0.0.1:{port}/webhooks/payments", "tr_Ab12")
        return await asyncio.wait_for(received, 5)


def test_the_call_posts_the_payment_id_as_a_form_to_the_webhook_path():
    head, body = run(_call_and_receive("200 OK"))

    assert head.startswith(b"POST /webhooks/payments HTTP/1.1\r\n")
    content_type = head.lower().split(b"content-type: ")[1].split(b"\r\n")[0].decode()
    assert webhook_payment_id(content_type, body) == "tr_Ab12"


def test_a_webhook_that_does_not_answer_200_is_logged(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="mierloos_entrypoints.web.payments"):
        run(_call_and_receive("503 Service Unavailable"))

    assert "answered 503" in caplog.text


def test_a_webhook_nobody_listens_on_is_logged(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="mierloos_entrypoints.web.payments"):
        run(call_webhook("http://127.0.0.1:9/webhooks/payments", "tr_Ab12"))

    assert "failed: ConnectionRefusedError" in caplog.text
